"""The Rollout page's flag list in Chromium: what ``rolloutFlags`` answers, in words, in both
languages; accessible and one column on a phone; each flag's kill switch.

Runs on the shared demo gateway: each test gives ``handbook.meetings`` (a flag no other browser
test touches) its rules and overrides through the API first, and compares the page with the
GraphQL read made just before it is opened.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import ARTIFACTS
from tests.console.test_views import AXE, check_view, open_console, visit

pytestmark = pytest.mark.slow

MEETINGS = "handbook.meetings"
FLAGS = """{ rolloutFlags { key state version parents defaultVariant
  rules { tenants roles branches members variant }
  overrides { tenant variant reason }
  plan { status wave step waveName percentage } } }"""
NAMES = "query($slugs: [String!]!) { tenants(slugs: $slugs) { slug name } }"
SET_RULES = """mutation($flag: String!, $rules: [FlagRuleInput!]!, $version: Int!) {
  result: setFlagRules(flag: $flag, rules: $rules, expectedVersion: $version, reason: "test")
  { version errors { code } } }"""
SET_OVERRIDE = """mutation($flag: String!, $tenant: String!, $variant: String) {
  result: setFlagOverride(flag: $flag, tenant: $tenant, variant: $variant, reason: "pilot")
  { version errors { code } } }"""
SET_STATE = """mutation($flag: String!, $version: Int!) {
  result: setFlagState(flag: $flag, state: ACTIVE, expectedVersion: $version, reason: "test")
  { version errors { code } } }"""
RULES = [
    {"conditions": [{"attribute": "ROLE", "values": ["branch_secretary"]}], "variant": "on"},
    {
        "conditions": [
            {"attribute": "TENANT", "values": ["kim-son", "hoa-lu"]},
            {"attribute": "ROLE", "values": ["member"]},
        ],
        "variant": "off",
    },
]
OVERRIDES = {"yen-mo": "on", "nho-quan": "off"}
# The words a reader expects, written out here rather than read from the console's dictionary.
WORDS = {
    "vi": {
        "on": "bật",
        "off": "tắt",
        "and": " và ",
        "or": " hoặc ",
        "tenants": "Đơn vị là {}",
        "roles": "Vai trò là {}",
        "member": "đảng viên",
        "branch_secretary": "bí thư chi bộ",
        "active": "Đang hoạt động",
        "killed": "Đã tắt khẩn cấp",
        "version": "Phiên bản {}",
        "wave": "(đợt {})",
        "noRules": "Không có quy tắc",
        "noOverrides": "Không có ghi đè",
    },
    "en": {
        "on": "on",
        "off": "off",
        "and": " and ",
        "or": " or ",
        "tenants": "District is {}",
        "roles": "Role is {}",
        "member": "member",
        "branch_secretary": "branch secretary",
        "active": "Active",
        "killed": "Killed (emergency stop)",
        "version": "Version {}",
        "wave": "(wave {})",
        "noRules": "No rules",
        "noOverrides": "No overrides",
    },
}


def flags_of(live_gateway: Any, token: str) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in live_gateway.graphql(token, FLAGS)["rolloutFlags"]}


def configure_meetings(live_gateway: Any, token: str) -> None:
    """``handbook.meetings`` active, with RULES and OVERRIDES (whatever earlier runs left)."""
    version = flags_of(live_gateway, token).get(MEETINGS, {"version": 1})["version"]
    if flags_of(live_gateway, token).get(MEETINGS, {}).get("state", "active") != "active":
        result = live_gateway.graphql(token, SET_STATE, {"flag": MEETINGS, "version": version})
        version = result["result"]["version"]
    variables = {"flag": MEETINGS, "rules": RULES, "version": version}
    assert live_gateway.graphql(token, SET_RULES, variables)["result"]["errors"] == []
    for tenant, variant in OVERRIDES.items():
        variables = {"flag": MEETINGS, "tenant": tenant, "variant": variant}
        assert live_gateway.graphql(token, SET_OVERRIDE, variables)["result"]["errors"] == []


def rule_sentence(rule: dict[str, Any], words: dict[str, str], names: dict[str, str]) -> str:
    parts = []
    for attribute in ("tenants", "roles"):
        values = rule[attribute]
        if values is not None:
            shown = [names[v] if attribute == "tenants" else words[v] for v in values]
            parts.append(words[attribute].format(words["or"].join(shown)))
    assert rule["branches"] is None  # none in this world
    assert rule["members"] is None
    return f"{words['and'].join(parts)} → {words[rule['variant']]}"


async def shown_flag(page: Any, key: str) -> dict[str, Any]:
    """What the page shows of flag ``key``."""
    item = page.locator(f"article.flag[data-flag='{key}']")
    return {
        "version": await item.get_attribute("data-version"),
        "state": await item.locator(".flag-state").inner_text(),
        "facts": await item.locator(".flag-facts").inner_text(),
        "plan": await item.locator(".flag-plan").inner_text(),
        "rules": await item.locator("li.rule").all_inner_texts(),
        "noRules": await item.locator(".no-rules").all_inner_texts(),
        "overrides": [
            (await li.get_attribute("data-tenant"), await li.locator(".override-rule").inner_text())
            for li in await item.locator("li.override").all()
        ],
        "noOverrides": await item.locator(".no-overrides").all_inner_texts(),
    }


def expected_flag(flag: dict[str, Any], words: dict[str, str], names: dict[str, str]) -> Any:
    return {
        "version": str(flag["version"]),
        "state": words[flag["state"]],
        "rules": [rule_sentence(r, words, names) for r in flag["rules"]],
        "noRules": [] if flag["rules"] else [words["noRules"]],
        "overrides": [
            (o["tenant"], f"{names[o['tenant']]} → {words[o['variant']]}")
            for o in flag["overrides"]
        ],
        "noOverrides": [] if flag["overrides"] else [words["noOverrides"]],
    }


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_the_flag_list_shows_the_graphql_read_in_words(
    browser, live_gateway, admin_token, auditor_token, lang
):
    # given: meetings with two rules and two overrides; the API's read of the province's flags
    configure_meetings(live_gateway, admin_token)
    flags = flags_of(live_gateway, auditor_token)
    slugs = sorted(
        {o["tenant"] for f in flags.values() for o in f["overrides"]} | {"kim-son", "hoa-lu"}
    )
    names = {
        t["slug"]: t["name"]
        for t in live_gateway.graphql(admin_token, NAMES, {"slugs": slugs})["tenants"]
    }
    words = WORDS[lang]
    # when: an auditor opens the Rollout page on a phone
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = await open_console(browser, live_gateway.url, "phone", lang, auditor_token)
    await page.add_script_tag(path=str(AXE))
    await visit(page, "rollout")
    # then: every flag of the read, in the read's order, with its rules and overrides in words
    keys = await page.locator("article.flag").evaluate_all(
        "(items) => items.map((i) => i.dataset.flag)"
    )
    assert keys == list(flags)
    assert MEETINGS in keys
    for key, flag in flags.items():
        shown = await shown_flag(page, key)
        assert {
            k: shown[k]
            for k in ("version", "state", "rules", "noRules", "overrides", "noOverrides")
        } == expected_flag(flag, words, names)
        assert words["version"].format(flag["version"]) in shown["facts"]
        assert f"{words[flag['defaultVariant']]}" in shown["facts"]
        if flag["plan"] is not None and flag["plan"]["wave"] >= 0:
            assert words["wave"].format(flag["plan"]["wave"]) in shown["plan"]
    meetings = await shown_flag(page, MEETINGS)
    assert (
        meetings["rules"][0]
        == {"vi": "Vai trò là bí thư chi bộ → bật", "en": "Role is branch secretary → on"}[lang]
    )
    # an auditor reads: no kill switch
    assert await page.locator("button.flag-switch").count() == 0
    # and the page passes axe and does not scroll sideways at 390x844
    assert await check_view(page, f"flags-auditor-rollout-{lang}-phone", 390) == []
    await page.context.close()


async def test_a_flags_kill_switch_turns_it_off_and_back_on(browser, live_gateway, admin_token):
    # given: meetings configured and active; a province admin on the Rollout page
    configure_meetings(live_gateway, admin_token)
    before = flags_of(live_gateway, admin_token)[MEETINGS]
    page = await open_console(browser, live_gateway.url, "desktop", "en", admin_token)
    await visit(page, "rollout")
    item = page.locator(f"article.flag[data-flag='{MEETINGS}']")
    # when: the admin kills the flag from its list entry, with a reason
    await item.get_by_role("button", name="Emergency off: Branch meetings").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Reason (audited)").fill("meetings misbehave")
    await dialog.get_by_role("button", name="Confirm").click()
    await page.locator("#flags-result .message.ok").wait_for()
    # then: killed in the API, shown as killed with the new version
    killed = flags_of(live_gateway, admin_token)[MEETINGS]
    assert (killed["state"], killed["version"]) == ("killed", before["version"] + 1)
    item = page.locator(f"article.flag[data-flag='{MEETINGS}']")
    assert await item.get_attribute("data-version") == str(killed["version"])
    assert await item.locator(".flag-state").inner_text() == "Killed (emergency stop)"
    # when: the admin reactivates it
    await item.get_by_role("button", name="Reactivate: Branch meetings").click()
    await dialog.get_by_label("Reason (audited)").fill("fixed")
    await dialog.get_by_role("button", name="Confirm").click()
    await page.locator("#flags-result .message.ok").wait_for()
    # then: active again, its rules and overrides unchanged
    after = flags_of(live_gateway, admin_token)[MEETINGS]
    assert (after["state"], after["version"]) == ("active", before["version"] + 2)
    assert (after["rules"], after["overrides"]) == (before["rules"], before["overrides"])
    await page.locator(
        f"article.flag[data-flag='{MEETINGS}'][data-version='{after['version']}']"
    ).wait_for()
    await page.context.close()
