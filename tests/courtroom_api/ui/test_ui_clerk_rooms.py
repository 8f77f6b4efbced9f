"""The clerk console serving many rooms, switching between them mid-hearing (each failed on the code before
it was fixed): a start/stop or sign-off answered after the switch acts on the room it was made for, not
the one open by then.

The server's answers are held back with Playwright's request routing (a loaded server's slow answer),
and released once the next room is open. The tests change hearings: a server of their own (``own``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import test_ui_regressions
from playwright.sync_api import Page, Route, expect
from test_ui_regressions import OwnServer
from ui_harness import login

# A server of this module's own, and pages of it (module-scoped: another instance than the regressions').
own = test_ui_regressions.own
pages = test_ui_regressions.pages


@contextmanager
def held(page: Page, url: str, method: str) -> Iterator[list[Route]]:
    """Requests ``method url`` are held (not sent) until the test continues them."""
    routes: list[Route] = []

    def hold(route: Route) -> None:
        if route.request.method == method:
            routes.append(route)
        else:
            route.continue_()

    page.route(url, hold)
    try:
        yield routes
    finally:
        page.unroute(url)


def wait_until(page: Page, ready: Callable[[], object], timeout_s: float = 10.0) -> None:
    """Let the page run until ``ready()`` (a check on what a route handler collected) holds."""
    for _ in range(int(timeout_s * 10)):
        if ready():
            return
        page.wait_for_timeout(100)
    raise AssertionError("timed out")


def open_room(page: Page, hearing: int, line_id: int | None = None) -> None:
    """Open a room from its card; with ``line_id``: wait until its transcript (and hearing) is read."""
    page.locator(f".room[data-hearing-id='{hearing}']").click()
    if line_id is not None:
        expect(page.locator(f"#clerk-transcript #seg-{line_id}")).to_be_visible()


def lines_of(own: OwnServer, hearing: int) -> list[dict]:
    with own.client("clerk") as clerk:
        return list(clerk.get(f"/api/hearings/{hearing}/segments").json())


@pytest.fixture(scope="module")
def third_room(own: OwnServer) -> int:
    """A third hearing in recess (room 1, case B), on the console from its start."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with own.client("clerk") as clerk:
        made = clerk.post(f"/api/cases/{own.ids['case_b']}/hearings",
                          json={"courtroom_id": own.ids["room_1"], "title": "第三次开庭", "scheduled_start": soon})
        assert made.status_code == 201, made.text
    hearing = int(made.json()["id"])
    with sqlite3.connect(own.data_dir / "courtroom.sqlite3", timeout=10) as db:
        db.execute("UPDATE hearings SET status = 'paused', started_at = datetime('now') WHERE id = ?", (hearing,))
    return hearing


def test_hearing_controls_and_sign_off_answered_after_a_room_switch_stay_with_their_room(pages, own,
                                                                                        third_room) -> None:
    """闭庭 pressed for one room, the clerk at once opens another (in recess): the buttons are that room's
    (开庭 resumed the first before); a sign-off answered after the switch does not show as the open room's."""
    page = pages()
    other, other_line = own.ids["hearing_b"], own.ids["segment_b"]
    login(page, "clerk", "/clerk")
    open_room(page, third_room)
    expect(page.locator("#hearing-stop")).to_be_visible()
    with held(page, f"**/api/hearings/{third_room}/stop", "POST") as stops:
        page.locator("#hearing-stop").click()
        wait_until(page, lambda: stops)
        open_room(page, other, other_line)
        expect(page.locator("#hearing-start")).to_be_visible()
        stops[0].continue_()
        expect(page.locator(f".room[data-hearing-id='{third_room}'] h3 .tag")).to_have_attribute(
            "data-i18n", "status.ended")
    expect(page.locator("#hearing-start")).to_be_visible()  # the open room is in recess: 开庭 resumes it
    expect(page.locator("#hearing-stop")).to_be_visible()
    expect(page.locator("#hearing-pause")).to_be_hidden()

    open_room(page, third_room)
    expect(page.locator("#signoff")).to_be_enabled()
    with held(page, f"**/api/hearings/{third_room}/signoff", "POST") as signoffs:
        page.locator("#signoff").click()
        wait_until(page, lambda: signoffs)
        open_room(page, other, other_line)
        signoffs[0].continue_()
        expect(page.locator(".toast", has_text="✓")).to_be_visible()
    expect(page.locator("#signoff")).to_be_enabled()  # the open room's record: not signed by the clerk
    expect(page.locator("#record-state")).to_have_text("")
    with own.client("clerk") as clerk:
        assert clerk.get(f"/api/hearings/{third_room}/record").json()["signatures"] == ["clerk"]
        assert clerk.get(f"/api/hearings/{other}/record").json()["signatures"] == []
