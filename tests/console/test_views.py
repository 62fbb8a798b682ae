"""Every view of the console, for every role, in both languages, on a desktop and on a phone.

The views come from the console's own menu as each role sees it (a view added to the console is
covered without editing this file): axe-core (from npm, injected into the page) finds no serious
or critical violation, no code meant for the console to put in words shows as is (a metric such as
``activation_rate``, an action such as ``plan.advance``), the phone page never scrolls sideways
(390x844), and a screenshot of each view is kept under tests/artifacts/console/.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.slow

AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
ROLES = {
    "province_admin": ("--role", "province_admin"),
    "auditor": ("--role", "auditor"),
    "tenant_admin": ("--role", "tenant_admin", "--tenant", "yen-mo"),
}
# each role's menu, exactly: a view the API refuses a role is not offered to it
MENUS = {
    "province_admin": ["province", "rollout", "adoption", "notices", "audit"],
    "auditor": ["province", "rollout", "adoption", "notices", "audit"],
    "tenant_admin": ["district", "adoption"],
}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("vi", "en")
SERIOUS = """() => axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations
  .filter((v) => v.impact === "serious" || v.impact === "critical")
  .map((v) => `${v.id} (${v.impact}): `
    + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")))"""
MENU = """() => [...document.querySelectorAll("#nav a")]
  .filter((a) => !a.hidden).map((a) => a.dataset.view)"""
# the words a reader sees (form fields' chosen option included, <code> such as a flag key not)
# that look like a code the console should have put in words: activation_rate, plan.advance (a
# word of an account name such as province_admin@province is a person's, not a code)
CODES = r"""() => {
  const main = document.querySelector("main").cloneNode(true);
  main.querySelectorAll("code, option:not(:checked), script").forEach((e) => e.remove());
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);  // cell by cell, apart
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.textContent);
  const text = parts.join(" ");
  const code = /(?<![\w@.])(?:[a-z]+(?:_[a-z]+)+|[a-z]+\.[a-z_]+)(?![\w@]|\.\w)/g;
  return [...new Set(text.match(code) ?? [])];
}"""


async def open_console(browser: Any, url: str, viewport: str, lang: str, token: str) -> Any:
    """A signed-in page in its own context; CSP bypassed only so the test can inject axe-core."""
    context = await browser.new_context(
        base_url=url, viewport=VIEWPORTS[viewport], locale="en-GB", bypass_csp=True
    )
    page = await context.new_page()
    page.set_default_timeout(60_000)
    await page.goto("/admin/#/province")
    await page.locator("#lang").select_option(lang)
    await page.locator("#token").fill(token)
    await page.locator("#token-form button[type=submit]").click()
    await page.locator("main[data-ready]").wait_for()
    return page


async def visit(page: Any, view: str) -> None:
    """Open ``view`` through the menu and wait until it has drawn what it read."""
    await page.locator(f"#nav a[data-view={view}]").click()
    await page.locator(f"main[data-ready={view}]").wait_for()


async def check_view(page: Any, name: str, width: int) -> list[str]:
    """Problems of the page as shown: axe's serious/critical violations, sideways scrolling."""
    problems = [f"{name}: {v}" for v in await page.evaluate(SERIOUS)]
    problems += [f"{name}: a code shown as is: {code}" for code in await page.evaluate(CODES)]
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"{name}: the page is {scroll_width} px wide in a {width} px viewport")
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return problems


async def problems_of_every_view(page: Any, role: str, name: str) -> list[str]:
    """Open each view of ``role``'s menu and check it as shown (``check_view``); screenshots are
    named ``{name}`` with the view put in place of ``{view}``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.add_script_tag(path=str(AXE))
    views = await page.evaluate(MENU)
    assert views == MENUS[role]
    width = await page.evaluate("window.innerWidth")
    problems: list[str] = []
    for view in views:
        await visit(page, view)
        problems += await check_view(page, name.format(view=view), width)
    return problems


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", sorted(ROLES))
async def test_every_view_is_accessible_and_fits(browser, live_gateway, role, lang, viewport):
    # given
    token = live_gateway.token(*ROLES[role])
    page = await open_console(browser, live_gateway.url, viewport, lang, token)
    # when every view of the menu is opened
    problems = await problems_of_every_view(page, role, f"view-{role}-{{view}}-{lang}-{viewport}")
    # then
    assert problems == []
    await page.context.close()
