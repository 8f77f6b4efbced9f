"""Every terminal page, for the role it is made for: loads without console errors, every control
is touch-sized, and the interface switches between Chinese and English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from ui_harness import login

PAGES = [
    ("judge", "/bench"),
    ("terminal_a", "/party"),
    ("party_a", "/party"),
    ("clerk", "/clerk"),
    ("appeal", "/search"),
    ("admin", "/admin"),
]
SMALL_CONTROLS = """() => [...document.querySelectorAll('button, select, input, textarea, a.btn, audio')]
  .filter((el) => el.offsetParent !== null)
  .map((el) => [el.id || el.dataset.action || el.dataset.i18n || el.tagName, el.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""


@pytest.mark.parametrize(("user", "path"), PAGES)
def test_page_loads_clean_with_touch_sized_controls(page, ui_server, user: str, path: str) -> None:
    login(page, user, path)
    page.wait_for_timeout(300)  # late requests (live socket, renditions) would log errors here
    for size in ({"width": 1920, "height": 1080}, {"width": 1280, "height": 800}):
        page.set_viewport_size(size)
        assert page.evaluate(SMALL_CONTROLS) == [], size


def test_transcript_page_loads_clean(page, ui_server) -> None:
    login(page, "appeal", f"/transcript?hearing={ui_server.ids['hearing_earlier']}")
    expect(page.locator("#full-transcript .line")).to_have_count(6)
    expect(page.locator("#hearing-title")).to_contain_text("(2024)吉2424民初123号")


def test_bench_switches_to_english_and_back(page, ui_server) -> None:
    login(page, "judge", "/bench")
    tab = page.locator("button[role=tab][data-pane=statutes]")
    expect(tab).to_have_text("法条检索")
    page.click("#lang-toggle")
    expect(tab).to_have_text("Statutes")
    expect(page.locator("#layout-tile")).to_have_text("Tile")
    expect(page.locator("#bench-transcript .badge").first).to_have_text("Presiding judge · 王审判长")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    expect(page.locator("button[role=tab][data-pane=statutes]")).to_have_text("Statutes")
    page.click("#lang-toggle")
    expect(page.locator("button[role=tab][data-pane=statutes]")).to_have_text("法条检索")


def test_a_party_cannot_open_the_bench_the_clerk_console_or_the_admin_page(page, ui_server) -> None:
    login(page, "party_a", "/party")
    for path in ("/bench", "/clerk", "/search", "/admin"):
        page.goto(path)
        page.wait_for_url("**/login?denied=*")
        expect(page.locator("#login-error")).to_be_visible()
