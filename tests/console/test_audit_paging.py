"""The audit log in Chromium beyond the API's largest page (200 rows): "show more" reads on after
the last row's cursor until the log ends, and the console then lists exactly what the API lists.

Runs on the shared demo gateway, in the demo's other province (Ha Nam): one of its province admins
pauses and resumes its plan through the API until more than 250 rows name them, and the console
is filtered on that actor. In Ninh Binh those plan-level rows would be listed under every tenant
filter and push the rows other modules look for off the first page.
"""

from __future__ import annotations

import uuid

import pytest

from tests.console.conftest import sign_in

pytestmark = pytest.mark.slow
expect = pytest.importorskip("playwright.async_api").expect

PROVINCE = "ha-nam"
PAGER = "00000000-0000-4000-8000-0000000a0d17"  # a Ha Nam province admin acting only here
MORE_THAN = 250
PAGE = 100  # the console's page (assets/views/audit.js)
STATUS = """query { rollout(flag: "handbook") { status } }"""
TO_RUNNING = {
    "draft": """mutation { result: startRollout(flag: "handbook") { errors { code } } }""",
    "paused": """mutation { result: resumeRollout(flag: "handbook", reason: "test")
      { errors { code } } }""",
    "completed": """mutation { result: rollbackRollout(flag: "handbook", reason: "test")
      { errors { code } } }""",
}
PAUSE = """mutation($reason: String!) { result: pauseRollout(flag: "handbook", reason: $reason)
  { errors { code } } }"""
RESUME = """mutation($reason: String!) { result: resumeRollout(flag: "handbook", reason: $reason)
  { errors { code } } }"""
AUDIT = """query($actor: String!, $after: String) {
  rolloutAudit(flag: "handbook", actor: $actor, first: 200, after: $after)
  { at action reason cursor } }"""
ZONE = """query { rollout(flag: "handbook") { timeZone } }"""
# the console's time of a row: the province's wall time with its offset (views/rollout/zone.js)
SHOWN_AT = """([iso, zone]) => {
  const date = new Date(iso);
  const wall = new Intl.DateTimeFormat("en-GB", { dateStyle: "short", timeStyle: "short",
    timeZone: zone }).format(date);
  const offset = new Intl.DateTimeFormat("en-GB", { timeZone: zone, timeZoneName: "shortOffset" })
    .formatToParts(date).find((p) => p.type === "timeZoneName").value;
  return `${wall} ${offset}`;
}"""


@pytest.fixture(scope="module")
def ha_nam_admin_token(live_gateway) -> str:
    return live_gateway.token("--role", "province_admin", "--province", PROVINCE)


@pytest.fixture(scope="module")
def pager_token(live_gateway) -> str:
    return live_gateway.token("--role", "province_admin", "--province", PROVINCE, "--member", PAGER)


def every_row(live_gateway, token) -> list[dict]:
    """All the pager's rows, newest first, read through the API 200 at a time."""
    rows: list[dict] = []
    while True:
        after = rows[-1]["cursor"] if rows else None
        page = live_gateway.graphql(token, AUDIT, {"actor": PAGER, "after": after})["rolloutAudit"]
        rows += page
        if len(page) < 200:
            return rows


def pause_and_resume(live_gateway, token, reason: str) -> None:
    """Two audit rows by ``token``'s actor: "``reason`` (pause)", then "``reason`` (resume)"."""
    for step, verb in ((PAUSE, "pause"), (RESUME, "resume")):
        answer = live_gateway.graphql(token, step, {"reason": f"{reason} ({verb})"})
        assert answer["result"]["errors"] == []


def more_than_250_rows(live_gateway, ha_nam_admin_token, pager_token) -> int:
    """Ha Nam's plan running and more than 250 audit rows by the pager; how many there are."""
    status = live_gateway.graphql(ha_nam_admin_token, STATUS)["rollout"]["status"]
    if status in TO_RUNNING:
        step = live_gateway.graphql(ha_nam_admin_token, TO_RUNNING[status])
        assert step["result"]["errors"] == []
    prefix = f"Paging {uuid.uuid4().hex[:8]}"  # every reason differs: a duplicate would show
    count = len(every_row(live_gateway, pager_token))
    for n in range(count // 2, MORE_THAN // 2 + 1):
        pause_and_resume(live_gateway, pager_token, f"{prefix} #{n:03d}")
    count = len(every_row(live_gateway, pager_token))
    assert count > MORE_THAN
    return count


async def shown(page) -> list[str]:
    """The reason of every row the console shows, in its order."""
    return await page.locator("#audit-table tbody tr td:last-child").all_inner_texts()


async def test_show_more_reads_the_whole_log_beyond_200_rows_once_each_in_order(
    live_gateway, ha_nam_admin_token, pager_token, new_page, screenshot
):
    # given: more than 250 rows by the pager, Ha Nam's audit log filtered on them
    total = more_than_250_rows(live_gateway, ha_nam_admin_token, pager_token)
    page = await new_page()
    await sign_in(page, ha_nam_admin_token, view="audit")
    await page.locator("#audit-table").wait_for()
    await page.get_by_label("Actor").fill(PAGER)
    await page.get_by_role("button", name="Filter").click()
    count = page.locator("#audit-count")
    await expect(count).to_have_text(f"{PAGE} entries shown. Show more")
    # and two newer rows arrive once the first page is shown (they come before it)
    pause_and_resume(live_gateway, pager_token, "Arrived while paging")
    # when: "show more" until it is gone
    clicks = 0
    while await page.locator("#audit-more").count():
        before = len(await shown(page))
        await page.locator("#audit-more").click()
        clicks += 1
        await page.locator("#audit-results:not([aria-busy])").wait_for()
        after = min(total, before + PAGE)
        # then, each time: the next rows below, focus on "show more" (on the count once all is)
        if await page.locator("#audit-more").count():
            await expect(count).to_have_text(f"{after} entries shown. Show more")
            await expect(page.locator("#audit-more")).to_be_focused()
        else:
            await expect(count).to_have_text(f"{after} entries shown.")
            await expect(count).to_be_focused()
        if clicks == 1:
            await screenshot(page, "50-audit-show-more")
    # then: exactly the API's rows for the same filter, in its order, each once
    api = every_row(live_gateway, pager_token)
    assert len(api) == total + 2
    arrived = ["Arrived while paging (resume)", "Arrived while paging (pause)"]
    assert [r["reason"] for r in api[:2]] == arrived
    rows = await shown(page)
    assert rows == [r["reason"] or "—" for r in api[2:]]
    assert len(set(rows)) == len(rows) == total
    table = page.locator("#audit-table tbody tr")
    zone = live_gateway.graphql(pager_token, ZONE)["rollout"]["timeZone"]
    for index, row in ((0, api[2]), (-1, api[-1])):
        when = await page.evaluate(SHOWN_AT, [row["at"], zone])
        assert await table.nth(index % total).locator("td").first.inner_text() == when
        assert (
            await table.nth(index % total).locator(".action").get_attribute("title")
            == row["action"]
        )
    await screenshot(page, "51-audit-all-shown")
