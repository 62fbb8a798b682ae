"""The console's words for server codes (console/src/assets/words.js), run in Node.

Audit actions, gate metrics, error codes, demo wave names and an audit row's change in readable
Vietnamese and English; anything unknown falls back to what the server sent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from rollout import audit
from tests.conftest import IN_CI
from tests.console.conftest import ROOT

ASSETS = ROOT / "console" / "src" / "assets"
WAVES = [
    {"name": "Yen Mo pilot", "tenants": ["yen-mo"], "ramp": [100]},
    {
        "name": "Hoa Lu, Ninh Binh city, Kim Son",
        "tenants": ["hoa-lu", "kim-son"],
        "ramp": [25, 50, 100],
    },
    {"name": "The rest of the province", "tenants": ["nho-quan"], "ramp": [50, 100]},
]
NAMES = {"yen-mo": "Yên Mô", "hoa-lu": "Hoa Lư", "kim-son": "Kim Sơn", "nho-quan": "Nho Quan"}
# In Node: a stand-in for the browser's storage and document, then the console's own modules.
RUNNER = """
globalThis.localStorage = { getItem: () => null, setItem: () => {} };
globalThis.document = { documentElement: {} };
const i18n = await import(process.argv[1] + "/i18n.js");
const words = await import(process.argv[1] + "/words.js");
const input = JSON.parse(process.argv[2]);
i18n.setLang(input.lang);
const name = (s) => input.names[s] ?? s;
const call = ([fn, ...args]) => fn === "changeSentence"
  ? words.changeSentence(args[0], input.waves, name)
  : fn === "ACTIONS" ? words.ACTIONS : words[fn](...args);
console.log(JSON.stringify(input.calls.map(call)));
"""


def words(lang: str, *calls: list[Any]) -> list[Any]:
    """Each ``[function, *args]`` of words.js evaluated in ``lang``."""
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("in CI the console's words need node")
        pytest.skip("node is not installed")
    payload = json.dumps({"lang": lang, "waves": WAVES, "names": NAMES, "calls": list(calls)})
    out = subprocess.run(
        [node, "--input-type=module", "-e", RUNNER, str(ASSETS), payload],
        check=True,
        capture_output=True,
        text=True,
    )
    return list(json.loads(out.stdout))


def plan_row(action: str, before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    return {"action": action, "tenant": None, "before": before, "after": after}


ADVANCE = plan_row(
    "plan.advance",
    {"status": "running", "wave": 1, "step": 0},
    {"status": "running", "wave": 1, "step": 1},
)
INTO_WAVE_2 = plan_row(
    "plan.approve",
    {"status": "running", "wave": 1, "step": 2},
    {"status": "running", "wave": 2, "step": 0},
)
PAUSE = plan_row(
    "plan.pause",
    {"status": "running", "wave": 1, "step": 1},
    {"status": "paused", "wave": 1, "step": 1},
)
RAMP = {"action": "tenant.ramp", "tenant": "kim-son", "before": None, "after": {"percentage": 10}}


def test_a_plan_step_reads_as_the_tenants_and_their_percentages():
    # when
    vi, en = (
        words(lang, ["changeSentence", ADVANCE], ["changeSentence", INTO_WAVE_2])
        for lang in ("vi", "en")
    )
    # then
    assert vi == ["Hoa Lư, Kim Sơn: 25% → 50%", "Nho Quan: 0% → 50%"]
    assert en == vi


def test_a_pause_reads_as_the_status_change_and_a_ramp_as_the_tenants_percentage():
    # when
    vi = words("vi", ["changeSentence", PAUSE], ["changeSentence", RAMP])
    en = words("en", ["changeSentence", PAUSE], ["changeSentence", RAMP])
    # then
    assert vi == ["đang chạy → tạm dừng", "Kim Sơn: 0% → 10%"]
    assert en == ["running → paused", "Kim Sơn: 0% → 10%"]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("vi", ["Chuyển bước tiếp", "Tỷ lệ kích hoạt", "Thí điểm Yên Mô", "Kế hoạch đã thay đổi"]),
        ("en", ["Advanced a step", "Activation rate", "Yên Mô pilot", "The plan changed"]),
    ],
)
def test_codes_read_in_the_chosen_language(lang, expected):
    # when
    action, metric, wave, error = words(
        lang,
        ["actionName", "plan.advance"],
        ["metricName", "activation_rate"],
        ["waveName", "Yen Mo pilot"],
        ["errorText", "VERSION_CONFLICT", "Stale version 3"],
    )
    # then
    assert [action, metric, wave] == expected[:3]
    assert error.startswith(expected[3])


def test_unknown_codes_fall_back_to_what_the_server_sent():
    # when
    answers = words(
        "vi",
        ["actionName", "plan.something_new"],
        ["metricName", "weekly_rate"],
        ["waveName", "Đợt của tỉnh"],
        ["errorText", "NEW_CODE", "Schedule a step in the future; run it now instead."],
        ["errorText", "NEW_CODE", ""],
    )
    # then
    assert answers == [
        "plan.something_new",
        "weekly_rate",
        "Đợt của tỉnh",
        "Schedule a step in the future; run it now instead.",
        "NEW_CODE",
    ]


def test_the_filter_offers_every_action_the_audit_records():
    # when
    [actions] = words("en", ["ACTIONS"])
    # then: one entry each, and none the server would never record
    assert sorted(actions) == sorted(audit.ACTIONS)


def test_every_audit_action_the_filter_offers_has_words_in_both_languages():
    # given
    [actions] = words("en", ["ACTIONS"])
    # when
    vi = words("vi", *(["actionName", a] for a in actions))
    en = words("en", *(["actionName", a] for a in actions))
    # then
    assert [a for a, v in zip(actions, vi, strict=True) if v == a] == []
    assert [a for a, e in zip(actions, en, strict=True) if e == a] == []
    assert len(set(vi)) == len(actions)
    assert len(set(en)) == len(actions)


FLAG_UPDATE = {
    "action": "flag.update",
    "tenant": None,
    "before": {"default_variant": "off", "state": "active"},
    "after": {"default_variant": "on", "state": "killed"},
}
SCHEDULE_RUN = {
    "action": "schedule.run",
    "tenant": None,
    "before": None,
    "after": {"id": "0b1c2d3e-aaaa-4bbb-8ccc-000000000001", "action": "pause", "new_field": 1},
}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "vi",
            [
                "biến thể mặc định: tắt; trạng thái: Đang hoạt động → "
                "biến thể mặc định: bật; trạng thái: Đã tắt khẩn cấp",
                "— → mã: 0b1c2d3e…; thao tác: Tạm dừng; new field: 1",
            ],
        ),
        (
            "en",
            [
                "default variant: off; state: Active → "
                "default variant: on; state: Killed (emergency stop)",
                "— → id: 0b1c2d3e…; action: Pause; new field: 1",
            ],
        ),
    ],
)
def test_any_other_change_reads_as_its_fields_in_words(lang, expected):
    # when: rows with no sentence of their own, one with a field the console has no words for
    answers = words(lang, ["changeSentence", FLAG_UPDATE], ["changeSentence", SCHEDULE_RUN])
    # then: each field and each coded value in words, ids shortened, no code left as is
    assert answers == expected


PAUSE_NOTICE = {
    "kind": "GUARDRAIL_PAUSE",
    "flag": "handbook",
    "wave": 1,
    "message": "Guardrail: weekly active members of wave 1 fell 42.0% (1,200 → 696)",
    "figures": {"earlier": 1200, "recent": 696, "change": -0.42, "threshold": 0.3},
}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "vi",
            "Kế hoạch Sổ tay đảng viên tự tạm dừng: đảng viên hoạt động trong tuần của Đợt 1 "
            "giảm từ 1.200 xuống 696 (-42%), vượt ngưỡng 30%.",
        ),
        (
            "en",
            "The Party-member handbook plan paused itself: weekly active members of Wave 1 fell "
            "from 1,200 to 696 (-42%), beyond the 30% threshold.",
        ),
    ],
)
def test_a_guardrail_pause_reads_from_its_figures(lang, expected):
    # when: the pause, and a notice without the guardrail's figures
    other = {**PAUSE_NOTICE, "figures": {"note": "by hand"}}
    answers = words(lang, ["noticeSentence", PAUSE_NOTICE], ["noticeSentence", other])
    # then: the sentence from the figures; the server's text when they are not the guardrail's
    assert answers == [expected, PAUSE_NOTICE["message"]]
