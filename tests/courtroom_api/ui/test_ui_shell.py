"""The page shells: login, redirects to login, language toggle, touch-target sizes."""

from __future__ import annotations

import time

import httpx
import pytest
from ui_harness import login, screenshots

PROTECTED = ["/bench", "/party", "/clerk", "/search", "/transcript?hearing=1", "/admin"]


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


def _stored_token(page) -> str | None:
    return page.evaluate("sessionStorage.getItem('courtroom.token')")  # type: ignore[no-any-return]


def test_logout_revokes_the_token_on_the_server(page, ui_server) -> None:
    login(page, "appeal", "/search")
    token = _stored_token(page)
    assert token
    page.click("#logout")
    page.wait_for_url("**/login")
    assert _stored_token(page) is None
    # fire and forget: the revocation may land just after the page has moved on
    with httpx.Client(base_url=ui_server.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        deadline = time.monotonic() + 10
        while (r := client.get("/api/auth/me")).status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert r.status_code == 401 and r.json()["detail"] == "token revoked; log in again"


def test_logout_works_with_the_server_unreachable(page, console) -> None:
    login(page, "appeal", "/search")
    refused: list[str] = []

    def unreachable(route) -> None:  # type: ignore[no-untyped-def]
        refused.append(route.request.url)
        route.abort("connectionrefused")

    page.route("**/api/auth/logout", unreachable)
    console.allowed.append("ERR_CONNECTION_REFUSED")  # the failed request, logged by the browser
    page.click("#logout")
    page.wait_for_url("**/login")
    assert _stored_token(page) is None
    for _ in range(50):  # the route handler runs as Playwright dispatches events
        if refused:
            break
        page.wait_for_timeout(100)
    assert refused  # the logout was tried, and its failure did not keep anyone logged in
    assert page.locator("#login-form").is_visible()


def test_the_api_docs_render_without_internet(page) -> None:
    """FastAPI's /docs loads Swagger UI from a CDN: on a court's network (and this machine) it was blank."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)  # the API's sections, drawn
    assert page.locator(".swagger-ui .opblock").count() > 50
    assert all(url.startswith(page.url.split("/docs")[0]) for url in requested), requested
