"""The Adoption view's wave CSV in Chromium: the server's ``/v1/adoption.csv?by=wave`` for the
waves the chart shows, its rows equal to ``adoptionByWave`` for the same period."""

from __future__ import annotations

import csv
from typing import Any

import pytest

from tests.console.conftest import sign_in

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect

BY_WAVE = """query($from: Date!, $to: Date!) {
  adoptionByWave(flag: "handbook", from: $from, to: $to) {
    position name tenants
    points { start end members installs activatedMembers activationRate newInstalls
             newActivations activeMembers uses stickiness } } }"""
# the console's period of `months` months (assets/data.js), as the page computes it
PERIOD = """(months) => {
  const today = new Date();
  const first = new Date(today.getFullYear(), today.getMonth() - (months - 1), 1);
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-`
    + String(d.getDate()).padStart(2, "0");
  return { from: iso(first), to: iso(today) };
}"""
HEADER = (
    "wave,wave_name,tenants,start,end,members,installs,activated_members,activation_rate,"
    "new_installs,new_activations,active_members,uses,stickiness"
)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def expected_rows(waves: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            str(w["position"]),
            w["name"],
            " ".join(w["tenants"]),
            p["start"],
            p["end"],
            *(str(p[k]) for k in ("members", "installs", "activatedMembers")),
            _ratio(p["activationRate"]),
            *(str(p[k]) for k in ("newInstalls", "newActivations", "activeMembers", "uses")),
            _ratio(p["stickiness"]),
        ]
        for w in waves
        for p in w["points"]
    ]


async def download_rows(page: Any) -> list[str]:
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download wave CSV").click()
    download = await download_info.value
    return (await download.path()).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(("months", "wave"), [(6, None), (3, 1)])
async def test_the_wave_csv_holds_the_waves_shown_as_graphql_reads_them(
    live_gateway, admin_token, new_page, months, wave
):
    # given: the Adoption view over `months` months, narrowed to one wave or not
    page = await new_page()
    await sign_in(page, admin_token, view="adoption")
    await page.locator("#adoption-wave-csv").wait_for()
    await page.get_by_label("Time range", exact=True).select_option(str(months))
    await page.locator("main[data-ready=adoption]").wait_for()
    if wave is not None:
        await page.get_by_label("Wave", exact=True).select_option(str(wave))
        await page.locator("main[data-ready=adoption]").wait_for()
    period = await page.evaluate(PERIOD, months)
    # when
    lines = await download_rows(page)
    # then: the wave rows of the chart's waves, each equal to the GraphQL figures
    waves = live_gateway.graphql(admin_token, BY_WAVE, period)["adoptionByWave"]
    shown = [w for w in waves if wave is None or w["position"] == wave]
    assert lines[0] == HEADER
    rows = list(csv.reader(lines[1:]))  # wave names may hold commas: quoted
    assert rows == expected_rows(shown)
    assert len(rows) == months * len(shown)
    assert {row[0] for row in rows} == {str(w["position"]) for w in shown}
    await expect(page.get_by_role("button", name="Download wave CSV")).to_be_focused()
