"""The page shells: login, redirects to login, language toggle, touch-target sizes."""

from __future__ import annotations

import pytest
from ui_harness import screenshots

PROTECTED = ["/bench", "/party", "/clerk", "/search", "/transcript?hearing=1"]


def test_login_page_loads_clean_and_is_bilingual(page) -> None:
    page.goto("/login")
    submit = page.locator("#login-submit")
    assert submit.inner_text() == "登录"
    page.click("#lang-toggle")
    assert submit.inner_text() == "Sign in"
    assert page.locator("html").get_attribute("lang") == "en"
    page.reload()  # the choice is remembered on this terminal
    assert page.locator("#login-submit").inner_text() == "Sign in"
    page.click("#lang-toggle")
    assert page.locator("#login-submit").inner_text() == "登录"
    screenshots(page, "login")


@pytest.mark.parametrize("path", PROTECTED)
def test_pages_without_a_token_go_to_login(page, path: str) -> None:
    page.goto(path)
    page.wait_for_url("**/login?next=*")
    assert page.locator("#login-form").is_visible()


def test_root_redirects_to_login(page) -> None:
    page.goto("/")
    page.wait_for_url("**/login")


def test_login_controls_are_touch_sized(page) -> None:
    page.goto("/login")
    for selector in ("#username", "#password", "#login-submit", "#lang-toggle"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, (selector, box)
