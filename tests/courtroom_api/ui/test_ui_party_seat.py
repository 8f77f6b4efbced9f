"""Seat terminals and party screens (each test failed on the code before its fix): a hearing running late
against the room's next one, "follow the bench" on the room's next hearing, a seek after the media link
expired, an exhibit that fails to load when tapped, the no-hearing notice after the language switch, and
an exhibit retitled while on screen.

The tests add rooms, hearings and exhibits, so they use a server of their own (``own``), with media links
that expire after a few seconds."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from playwright.sync_api import expect
from ui_files import contract_pdf, drawing_png
from ui_harness import UiServer, api_token, login, page_on, serving
from ui_seed import PASSWORD

MEDIA_LINK_SECONDS = 5


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    with serving(tmp_path_factory.mktemp("ui-seat-data"),
                 {"COURTROOM_AUTH__MEDIA_LINK_SECONDS": str(MEDIA_LINK_SECONDS)}) as server:
        yield server


@pytest.fixture
def seat_page(browser: object, own: UiServer, console: object) -> Iterator[object]:
    """A touch page of the own server (1280×800, the seat panel); console errors fail the test."""
    yield from page_on(browser, own, console, size=(1280, 800))  # type: ignore[arg-type]


def _room(server: UiServer, name: str, hearings: list[tuple[str, str, timedelta]]) -> dict[str, object]:
    """A courtroom with a defendant-side terminal and one case per hearing: (title, status, due from now)."""
    from sqlalchemy import select

    from models import Case, Court, Courtroom, Hearing, User
    from models.db import make_engine, session_factory
    from models.passwords import hash_password

    engine = make_engine(server.database_url)
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as s:
            court = s.scalar(select(Court))
            room = Courtroom(court_id=court.id, name=name, profile_name="demo")
            s.add(room)
            s.flush()
            login_name = f"terminal_room{room.id}"
            s.add(User(login=login_name, display_name=f"{name}被告席", password_hash=hash_password(PASSWORD),
                       role="terminal", courtroom_id=room.id, side="defendant"))
            rows = []
            for i, (title, status, due) in enumerate(hearings):
                case = Case(court_id=court.id, case_number=f"(2024)吉2424民初{room.id}{i}号", title=title,
                            cause_of_action="借款")
                s.add(case)
                s.flush()
                started = now + due if status != "scheduled" else None
                hearing = Hearing(case_id=case.id, courtroom_id=room.id, title=title, status=status,
                                  scheduled_start=now + due, started_at=started)
                s.add(hearing)
                s.flush()
                rows.append({"case": case.id, "hearing": hearing.id})
            s.commit()
    finally:
        engine.dispose()
    return {"terminal": login_name, "rows": rows}


def _upload(client: httpx.Client, case_id: int, title: str, data: bytes, mime: str, filename: str) -> int:
    resp = client.post(f"/api/cases/{case_id}/evidence", content=data, params={"title": title, "filename": filename},
                       headers={"Content-Type": mime})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["id"])


@contextmanager
def _client(server: UiServer, user: str) -> Iterator[httpx.Client]:
    """An API client signed in as a seeded user."""
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {api_token(client, user)}"
        yield client


def test_a_terminal_stays_with_its_hearing_running_late(seat_page, own) -> None:
    """The room's 9:00 hearing, 50 minutes late and not started, comes before its 10:30 one of another case:
    the terminal followed the hearing due nearest to now (the later one) and listed the other case's exhibits."""
    room = _room(own, "第六法庭", [("丙案", "scheduled", timedelta(minutes=-50)),
                                  ("丁案", "scheduled", timedelta(minutes=40))])
    late, later = room["rows"]
    with _client(own, "clerk") as clerk:
        own_ev = _upload(clerk, late["case"], "借条", drawing_png("丙案借条"), "image/png", "iou.png")
        other_ev = _upload(clerk, later["case"], "病历（另案）", drawing_png("丁案病历"), "image/png", "rec.png")
    login(seat_page, room["terminal"], "/party")
    assert seat_page.evaluate("document.body.dataset.hearingId") == str(late["hearing"])
    expect(seat_page.locator(f"#party-evidence-list [data-evidence-id='{own_ev}']")).to_have_count(1)
    expect(seat_page.locator(f"#party-evidence-list [data-evidence-id='{other_ev}']")).to_have_count(0)


def test_the_next_hearing_is_followed_from_the_bench_again(seat_page, own) -> None:
    """The party of the room's hearing looked at an exhibit on its own (following the bench switched off);
    when that hearing ended, the terminal took up the room's next hearing with the switch still off, and
    what that hearing's bench showed never appeared."""
    room = _room(own, "第五法庭", [("甲案", "paused", timedelta(minutes=-30)),
                                  ("乙案", "scheduled", timedelta(minutes=10))])
    first, second = room["rows"]
    with _client(own, "clerk") as clerk:
        first_ev = _upload(clerk, first["case"], "甲案证据", drawing_png("甲案证据"), "image/png", "a.png")
        second_ev = _upload(clerk, second["case"], "乙案证据", drawing_png("乙案证据"), "image/png", "b.png")
    login(seat_page, room["terminal"], "/party")
    assert seat_page.evaluate("document.body.dataset.hearingId") == str(first["hearing"])
    seat_page.tap(f"#party-evidence-list [data-evidence-id='{first_ev}']")
    expect(seat_page.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(first_ev))
    expect(seat_page.locator("#follow-bench")).to_have_attribute("aria-pressed", "false")
    with _client(own, "judge") as judge:
        judge.post(f"/api/hearings/{first['hearing']}/stop").raise_for_status()
        expect(seat_page.locator("body")).to_have_attribute("data-hearing-id", str(second["hearing"]), timeout=30_000)
        expect(seat_page.locator("#follow-bench")).to_have_attribute("aria-pressed", "true")
        judge.put(f"/api/hearings/{second['hearing']}/display", json={"evidence_id": second_ev}).raise_for_status()
    expect(seat_page.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(second_ev))


def _long_wav(seconds: int = 600, rate: int = 16000) -> bytes:
    """A tone long enough that the browser streams it in ranges, not whole (a seek far ahead asks again)."""
    t = np.arange(seconds * rate) / rate
    samples = (0.2 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


AUDIO = "document.querySelector('#party-viewer audio')"


def test_a_seek_after_the_media_link_expired_plays_on(seat_page, own, console) -> None:
    """A recording playing past its media link's life, then sought far ahead: the range request is refused,
    a fresh link is signed and the recording plays on from there; it was left paused."""
    console.allowed.append("Failed to load resource")  # the refused range request of the expired link
    with _client(own, "clerk") as clerk:
        audio = _upload(clerk, own.ids["case_a"], "长录音", _long_wav(), "audio/wav", "long.wav")
    login(seat_page, "party_a", "/party")
    seat_page.tap("#follow-bench")  # the party plays it on its own
    seat_page.tap(f"#party-evidence-list [data-evidence-id='{audio}']")
    seat_page.wait_for_function(f"() => {AUDIO}?.readyState >= 1")
    seat_page.evaluate(f"() => {AUDIO}.play()")
    # Past the link's life and the relink's minimum spacing (10 s) while playing.
    seat_page.wait_for_function(f"() => {AUDIO}.currentTime > 11", timeout=30_000)
    seat_page.evaluate(f"() => {{ {AUDIO}.currentTime = 400; }}")
    seat_page.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime > 401", timeout=20_000)


def test_an_exhibit_that_fails_to_load_when_tapped_is_reported(seat_page, own, console) -> None:
    """A document sealed after the list was loaded, then tapped: the screen says it could not be loaded and
    lists the case's exhibits again (the sealed one gone); nothing was said (an uncaught error)."""
    console.allowed.append("Failed to load resource")  # the refused request of the sealed exhibit
    with _client(own, "clerk") as clerk:
        ev = _upload(clerk, own.ids["case_a"], "证人证言", contract_pdf(), "application/pdf", "w.pdf")
    login(seat_page, "party_a", f"/party?hearing={own.ids['hearing_earlier']}")
    pick = seat_page.locator(f"#party-evidence-list [data-evidence-id='{ev}']")
    expect(pick).to_have_count(1)
    with _client(own, "judge") as judge:
        judge.patch(f"/api/evidence/{ev}", json={"sealed": True}).raise_for_status()
    pick.tap()
    expect(seat_page.locator(".toast")).to_be_visible()
    expect(pick).to_have_count(0)
    expect(seat_page.locator("#party-waiting")).to_be_visible()
    assert seat_page.locator("#party-viewer").get_attribute("data-evidence-id") is None


def test_a_page_that_fails_to_load_when_turned_to_is_reported(seat_page, own, console) -> None:
    """A document on screen sealed meanwhile, then paged on: the screen says the page could not be loaded and
    lists the case's exhibits again (the sealed one leaves the screen); nothing was said (an uncaught error)."""
    console.allowed.append("Failed to load resource")  # the refused request of the sealed exhibit
    with _client(own, "clerk") as clerk:
        ev = _upload(clerk, own.ids["case_a"], "补充协议", contract_pdf(), "application/pdf", "s.pdf")
    login(seat_page, "party_a", f"/party?hearing={own.ids['hearing_earlier']}")
    pick = seat_page.locator(f"#party-evidence-list [data-evidence-id='{ev}']")
    pick.tap()
    expect(seat_page.locator("#party-viewer")).to_have_attribute("data-page", "1")
    with _client(own, "judge") as judge:
        judge.patch(f"/api/evidence/{ev}", json={"sealed": True}).raise_for_status()
    seat_page.tap("#party-viewer [data-action='ev.next']")
    expect(seat_page.locator(".toast")).to_be_visible()
    expect(pick).to_have_count(0)
    expect(seat_page.locator("#party-waiting")).to_be_visible()
    assert seat_page.locator("#party-viewer").get_attribute("data-evidence-id") is None


def test_the_no_hearing_notice_survives_the_language_switch(seat_page, own) -> None:
    """A terminal of a room with no hearing says so; switched to English (and back) it said "Waiting for the
    bench to show an exhibit" instead."""
    room = _room(own, "第三法庭", [])
    login(seat_page, room["terminal"], "/party")
    waiting = seat_page.locator("#party-waiting")
    expect(waiting).to_have_text("暂无进行中的庭审")
    seat_page.click("#lang-toggle")
    expect(waiting).to_have_text("No hearing in progress")
    seat_page.click("#lang-toggle")
    expect(waiting).to_have_text("暂无进行中的庭审")


def test_an_exhibit_retitled_while_on_screen_gets_its_new_caption(seat_page, own) -> None:
    """The bench shows an exhibit, and the clerk retitles it: the list and the caption over it on the party
    screen say the new title; the caption kept the old one."""
    with _client(own, "clerk") as clerk:
        ev = _upload(clerk, own.ids["case_a"], "现场照片", drawing_png("现场照片"), "image/png", "photo.png")
    hearing = own.ids["hearing_live"]
    login(seat_page, "party_a", "/party")
    with _client(own, "judge") as judge:
        judge.put(f"/api/hearings/{hearing}/display", json={"evidence_id": ev}).raise_for_status()
        try:
            expect(seat_page.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(ev))
            expect(seat_page.locator("#party-viewer .ev-caption")).to_contain_text("现场照片")
            judge.patch(f"/api/evidence/{ev}", json={"title": "现场照片（更正版）"}).raise_for_status()
            expect(seat_page.locator(f"#party-evidence-list [data-evidence-id='{ev}']")).to_contain_text("更正版")
            expect(seat_page.locator("#party-viewer .ev-caption")).to_contain_text("现场照片（更正版）")
            expect(seat_page.locator("#party-viewer")).to_have_attribute("data-evidence-id", str(ev))
        finally:
            judge.put(f"/api/hearings/{hearing}/display", json={"evidence_id": None}).raise_for_status()
