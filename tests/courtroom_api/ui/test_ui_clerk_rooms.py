"""The clerk console serving many rooms, switching between them mid-hearing (each failed on the code before
it was fixed): a start/stop or sign-off answered after the switch acts on the room it was made for, not
the one open by then; a line sealed, corrected or credited to a speaker while the clerk moves on is not
drawn into the next room's transcript; a card's speech alarms end once the line is corrected, which is
redrawn there, not shown as a new line; a device alarm leaves the card after a server restart that
nothing keeps it in force.

The server's answers are held back with Playwright's request routing (a loaded server's slow answer),
and released once the next room is open. The tests change hearings: a server of their own (``own``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import test_ui_regressions
from playwright.sync_api import Locator, Page, Route, WebSocketRoute, expect
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
        page.locator("#hearing-stop-confirm").click()
        wait_until(page, lambda: stops)
        open_room(page, other, other_line)
        expect(page.locator("#hearing-start")).to_be_visible()
        stops[0].continue_()
        # The ended hearing's card goes (the cards are the hearings running and due today); the picker says so.
        expect(page.locator(f".room[data-hearing-id='{third_room}']")).to_have_count(0)
        expect(page.locator(f"#hearing-select option[value='{third_room}']")).to_contain_text("已结束")
    expect(page.locator("#hearing-start")).to_be_visible()  # the open room is in recess: 开庭 resumes it
    expect(page.locator("#hearing-stop")).to_be_visible()
    expect(page.locator("#hearing-pause")).to_be_hidden()

    page.select_option("#hearing-select", str(third_room))
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



def test_the_bench_s_controls_answered_after_a_hearing_switch_stay_with_their_hearing(pages, own) -> None:
    """闭庭 pressed on the bench for a hearing in recess, the judge at once opens a scheduled one: the buttons
    are the scheduled hearing's (开庭), not the ended one's (none at all, as on the clerk console before)."""
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    made = []
    with own.client("clerk") as clerk:
        for title in ("休庭中的庭审", "待开庭的庭审"):
            r = clerk.post(f"/api/cases/{own.ids['case_b']}/hearings",
                           json={"courtroom_id": own.ids["room_1"], "title": title, "scheduled_start": soon})
            assert r.status_code == 201, r.text
            made.append(int(r.json()["id"]))
    paused, scheduled = made
    with sqlite3.connect(own.data_dir / "courtroom.sqlite3", timeout=10) as db:
        db.execute("UPDATE hearings SET status = 'paused', started_at = datetime('now') WHERE id = ?", (paused,))
    page = pages()
    login(page, "judge", f"/bench?hearing={paused}")
    expect(page.locator("#hearing-stop")).to_be_visible()
    with held(page, f"**/api/hearings/{paused}/stop", "POST") as stops:
        page.locator("#hearing-stop").click()
        page.locator("#hearing-stop-confirm").click()
        wait_until(page, lambda: stops)
        page.select_option("#hearing-select", str(scheduled))
        expect(page.locator("#hearing-start")).to_be_visible()
        stops[0].continue_()
        expect(page.locator(f"#hearing-select option[value='{paused}']")).to_contain_text("已结束")
    expect(page.locator("#hearing-start")).to_be_visible()  # the open hearing is scheduled: 开庭 starts it
    expect(page.locator("#hearing-stop")).to_be_hidden()
    with own.client("clerk") as clerk:
        assert clerk.get(f"/api/hearings/{paused}").json()["status"] == "ended"
        assert clerk.get(f"/api/hearings/{scheduled}").json()["status"] == "scheduled"

CORRECTED = "我方提交还款收据一份，见证据三。"


def test_one_tap_on_end_hearing_asks_first_and_cancel_keeps_the_hearing(pages, own) -> None:
    """In a recess 开庭 and 闭庭 sit 8 px apart on the bench: one slip onto 闭庭 ended the hearing for good (an
    ended hearing cannot start again). Now it asks on the bar; 取消 keeps the hearing, 确认闭庭 ends it."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with own.client("clerk") as clerk:
        made = clerk.post(f"/api/cases/{own.ids['case_b']}/hearings",
                          json={"courtroom_id": own.ids["room_1"], "title": "休庭待续", "scheduled_start": soon})
        assert made.status_code == 201, made.text
    hearing = int(made.json()["id"])
    with sqlite3.connect(own.data_dir / "courtroom.sqlite3", timeout=10) as db:
        db.execute("UPDATE hearings SET status = 'paused', started_at = datetime('now') WHERE id = ?", (hearing,))

    def status() -> str:
        with own.client("clerk") as clerk:
            return str(clerk.get(f"/api/hearings/{hearing}").json()["status"])

    page = pages()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    login(page, "judge", f"/bench?hearing={hearing}")
    page.locator("#hearing-stop").tap()
    expect(page.locator("#hearing-stop-confirm")).to_be_visible()
    expect(page.locator("#hearing-stop-ask")).to_contain_text("确认闭庭")
    expect(page.locator("#hearing-start")).to_be_hidden()  # nothing else to slip onto meanwhile
    expect(page.locator("#hearing-stop-cancel")).to_be_focused()  # Enter keeps the hearing
    page.wait_for_timeout(500)
    assert status() == "paused"
    page.locator("#hearing-stop-cancel").tap()
    expect(page.locator("#hearing-start")).to_be_visible()
    expect(page.locator("#hearing-stop")).to_be_visible()
    expect(page.locator("#hearing-stop-confirm")).to_be_hidden()
    assert status() == "paused"
    page.locator("#hearing-stop").tap()
    page.locator("#hearing-stop-confirm").tap()
    expect(page.locator(f"#hearing-select option[value='{hearing}']")).to_contain_text("已结束")
    expect(page.locator("#hearing-stop")).to_be_hidden()
    expect(page.locator("#hearing-stop-confirm")).to_be_hidden()
    assert status() == "ended"
    assert dialogs == []  # asked in the page, not with a browser dialog



def _paused_hearing(own: OwnServer, title: str) -> int:
    """A hearing of its own in recess (the module's server is shared)."""
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    with own.client("clerk") as clerk:
        made = clerk.post(f"/api/cases/{own.ids['case_b']}/hearings",
                          json={"courtroom_id": own.ids["room_1"], "title": title, "scheduled_start": soon})
        assert made.status_code == 201, made.text
    hearing = int(made.json()["id"])
    with sqlite3.connect(own.data_dir / "courtroom.sqlite3", timeout=10) as db:
        db.execute("UPDATE hearings SET status = 'paused', started_at = datetime('now') WHERE id = ?", (hearing,))
    return hearing


def test_cancel_is_not_offered_while_the_end_of_the_hearing_is_under_way(pages, own) -> None:
    """确认闭庭 sent, 取消 stayed enabled: tapped, the bar showed 开庭/闭庭 as if kept, then the hearing ended."""
    hearing = _paused_hearing(own, "闭庭中")
    page = pages()
    login(page, "judge", f"/bench?hearing={hearing}")
    with held(page, f"**/api/hearings/{hearing}/stop", "POST") as stops:
        page.locator("#hearing-stop").tap()
        page.locator("#hearing-stop-confirm").tap()
        wait_until(page, lambda: stops)
        cancel = page.locator("#hearing-stop-cancel")
        assert not (cancel.is_visible() and cancel.is_enabled())
        stops[0].continue_()
    expect(page.locator(f"#hearing-select option[value='{hearing}']")).to_contain_text("已结束")


def test_the_end_hearing_question_goes_when_the_hearing_is_resumed_elsewhere(pages, own) -> None:
    """闭庭 tapped in a recess, the clerk resumes the hearing meanwhile: the question stayed, and 确认闭庭 ended
    a hearing going on, which the judge had not been asked about."""
    hearing = _paused_hearing(own, "休庭后续开")
    sockets: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        sockets.append(ws)
        ws.connect_to_server()

    page = pages()
    page.route_web_socket(re.compile(rf"/ws/hearings/{hearing}\b"), relay)
    login(page, "judge", f"/bench?hearing={hearing}")
    page.locator("#hearing-stop").tap()
    expect(page.locator("#hearing-stop-confirm")).to_be_visible()
    # as the server says the clerk's 开庭 (its status frame on the hearing's socket)
    sockets[-1].send(json.dumps({"seq": 0, "type": "status", "t": 0, "data": {"status": "resumed"}}))
    expect(page.locator("#hearing-stop-confirm")).to_be_hidden()
    expect(page.locator("#hearing-pause")).to_be_visible()
    expect(page.locator("#hearing-stop")).to_be_visible()

def _seal(line: Locator) -> None:
    line.locator("[data-action='tr.seal']").click()
    line.locator(".ask-text").fill("涉及个人隐私")
    line.locator("[data-action='ok']").click()


def _correct(line: Locator) -> None:
    line.locator("[data-action='tr.edit']").click()
    line.locator(".edit-text").fill(CORRECTED)
    line.locator(".edit-reason").fill("听音核对")
    line.locator("[data-action='save']").click()


def _credit(line: Locator) -> None:
    line.locator("[data-action='tr.speaker']").click()
    line.locator(".speaker-pick").select_option(label="证人 王五")
    line.locator(".edit-reason").fill("回放录音，系证人发言")
    line.locator("[data-action='save']").click()


# action, the request it makes (held), the line of room A it acts on, whether someone corrects it meanwhile
SAVES = {
    "seal": (_seal, "**/api/segments/{id}/seal", "POST", 0, False),
    "correction": (_correct, "**/api/segments/{id}", "PATCH", 1, False),
    "correction refused": (_correct, "**/api/segments/{id}", "PATCH", 1, True),  # 409: the current text read
    "speaker": (_credit, "**/api/segments/{id}/speaker", "PUT", 0, False),
}


# Every answer the page has read (url, status): the code awaiting it has run once it is listed here.
NOTE_READS = """
window.__read = [];
const json0 = Response.prototype.json;
Response.prototype.json = async function () {
  const out = await json0.call(this);
  window.__read.push([this.url, this.status]);
  return out;
};
"""


@pytest.mark.parametrize("action", SAVES)
def test_a_line_saved_while_the_clerk_opens_another_room_stays_out_of_its_transcript(pages, own, action) -> None:
    act, url, method, index, raced = SAVES[action]
    page = pages(allowed=("409",) if raced else ())
    room_a, room_b = own.ids["hearing_live"], own.ids["hearing_b"]
    line_a = lines_of(own, room_a)[index]
    page.add_init_script(NOTE_READS)
    login(page, "clerk", "/clerk")
    open_room(page, room_a, line_a["id"])
    with held(page, url.format(id=line_a["id"]), method) as saves:
        act(page.locator(f"#seg-{line_a['id']}"))
        wait_until(page, lambda: saves)
        open_room(page, room_b, own.ids["segment_b"])
        text = CORRECTED
        if raced:  # the judge corrects the line before the clerk's correction reaches the server
            text = CORRECTED + "（补正）"
            with own.client("judge") as judge:
                now = judge.get(f"/api/segments/{line_a['id']}").json()
                judge.patch(f"/api/segments/{line_a['id']}", json={
                    "text": text, "reason": "法官核对", "revision": now["revision"]}).raise_for_status()
        saves[0].continue_()
        # The line's answer read (after a 409: the line read again): the page has drawn it, if anywhere.
        page.wait_for_function("(url) => window.__read.some(([u, status]) => u === url && status === 200)",
                               arg=saves[0].request.url)
    shown = page.locator("#clerk-transcript .line").evaluate_all("els => els.map((e) => e.id)")
    assert f"seg-{line_a['id']}" not in shown, shown
    assert f"seg-{own.ids['segment_b']}" in shown, shown
    open_room(page, room_a, line_a["id"])  # room A's transcript, read again, has the change
    line = page.locator(f"#seg-{line_a['id']}")
    if action == "seal":
        expect(line).to_have_class(re.compile(r"\bsealed\b"))
    elif action == "speaker":
        expect(line.locator(".badge")).to_contain_text("王五")
    else:
        expect(line.locator(".text")).to_have_text(text)


def test_corrected_lines_end_their_speech_alarms_and_are_redrawn_on_the_card(pages, own) -> None:
    """Two poorly heard lines on one microphone, the first of no known speaker, raise two alarms on their
    room's card. The first credited to its speaker (gone over: status corrected) ends the unattributed
    alarm, the second line still holds the low-confidence one until it is corrected too; the card shows
    the lines as they are now, not as extra latest lines."""
    from models import TranscriptSegment
    from models.db import make_engine, session_factory

    room = own.ids["hearing_b"]
    engine = make_engine(own.database_url)
    with session_factory(engine)() as s:
        heard = [TranscriptSegment(hearing_id=room, seq=seq, start_s=start, end_s=start + 2.5, text=text, role=role,
                                   seat=None, channel=2, confidence=confidence, language="zh", engine="test",
                                   model="seed")
                 for seq, start, text, role, confidence in ((2, 4.0, "（听不清）货我没收到", None, 0.35),
                                                            (3, 7.0, "货款已经付清了吧", "plaintiff", 0.4))]
        s.add_all(heard)
        s.commit()
        first, second = (seg.id for seg in heard)
    engine.dispose()
    page = pages()
    login(page, "clerk", "/clerk")
    card = page.locator(f".room[data-hearing-id='{room}']")
    mini = card.locator(".mini > div")
    expect(card.locator(".alarms li[data-alarm='unattributed']")).to_have_count(1)
    expect(card.locator(".alarms li[data-alarm='low_confidence']")).to_have_count(1)
    expect(mini).to_have_count(3)
    with own.client("clerk") as clerk:
        plaintiff = next(p for p in clerk.get(f"/api/cases/{own.ids['case_b']}/participants").json()
                         if p["role"] == "plaintiff")
        credited = clerk.put(f"/api/segments/{first}/speaker", json={
            "participant_id": plaintiff["id"], "reason": "回放核对", "revision": 0})
        assert credited.status_code == 200, credited.text
        expect(mini.nth(1)).to_have_text("孙七: （听不清）货我没收到")
        expect(card.locator(".alarms li[data-alarm='unattributed']")).to_have_count(0)
        expect(card.locator(".alarms li[data-alarm='low_confidence']")).to_have_count(1)  # the second's
        corrected = clerk.patch(f"/api/segments/{second}", json={
            "text": "货款已经付清了", "reason": "回放核对", "revision": 0})
        assert corrected.status_code == 200, corrected.text
    expect(mini.first).to_have_text(re.compile(r": 货款已经付清了$"))
    expect(card.locator(".alarms li")).to_have_count(0)
    expect(card).not_to_have_class(re.compile(r"\balarm\b"))
    expect(mini).to_have_count(3)
    page.reload()  # read again, the card raises none either
    expect(mini).to_have_count(3)
    expect(card.locator(".alarms li")).to_have_count(0)


def test_a_device_alarm_leaves_the_card_after_a_restart_that_no_longer_has_it(pages, own) -> None:
    """A dead microphone's alarm is on the card; the server restarts (the alarms in force come again after
    its reset, and it has none): the card shows none, as a console opened now does."""
    page = pages(allowed=("ERR_CONNECTION_REFUSED",))  # the reconnects while the server is down
    room = own.ids["hearing_live"]
    sockets: list[WebSocketRoute] = []

    def relay(ws: WebSocketRoute) -> None:
        if ws.url.split("?")[0].endswith(f"/{room}"):
            sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket(re.compile(r"/ws/hearings/"), relay)
    login(page, "clerk", "/clerk")
    card = page.locator(f".room[data-hearing-id='{room}']")
    resets: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: resets.append(str(f))
                                          if '"reset"' in str(f) else None))
    # As the capture reports a channel gone silent (the server's alarm frame, sent on its socket).
    sockets[-1].send(json.dumps({"seq": 0, "type": "alarm", "t": 0, "data": {
        "kind": "dead_channel", "active": True, "channel": 0, "seat": "judge", "message": "no signal"}}))
    expect(card.locator(".alarms li[data-alarm='dead_channel']")).to_have_count(1)
    own.stop()
    own.start()
    wait_until(page, lambda: resets, timeout_s=30)
    expect(card.locator(".alarms li")).to_have_count(0)
    expect(card).not_to_have_class(re.compile(r"\balarm\b"))


def test_an_unlock_asked_for_one_room_goes_when_the_judge_opens_another(pages, own) -> None:
    """启封 pressed for a signed record asks its reason in the record bar; the judge opens another room: the
    question goes with the room (it stayed, and answered unlocked the record of the room left, not on screen)."""
    room_a, room_b = own.ids["hearing_live"], own.ids["hearing_b"]
    with own.client("clerk") as clerk:
        signed = clerk.post(f"/api/hearings/{room_a}/signoff", json={"note": ""})
        assert signed.status_code == 200, signed.text
    try:
        page = pages()
        login(page, "judge", f"/clerk?hearing={room_a}")
        expect(page.locator("#unlock")).to_be_visible()
        page.locator("#unlock").click()
        box = page.locator("#record-bar .ask-box")
        expect(box).to_be_visible()
        open_room(page, room_b, own.ids["segment_b"])
        expect(box).to_have_count(0)
        expect(page.locator("#unlock")).to_be_hidden()  # room B's record: nobody signed it
        with own.client("clerk") as clerk:
            assert clerk.get(f"/api/hearings/{room_a}/record").json()["signatures"] == ["clerk"]
    finally:
        with own.client("judge") as judge:
            judge.post(f"/api/hearings/{room_a}/unlock", json={"reason": "测试复原"}).raise_for_status()


def test_a_sign_off_refused_after_a_room_switch_offers_nothing_for_the_room_open_then(pages, own) -> None:
    """The clerk signs room A off and at once opens an ended hearing whose recording is lost; A's sign-off
    is refused: A's refusal is shown, and signing the open hearing without its recording is not offered
    (it was: the offer looked at the room open by then, and answered, signed that one)."""
    room_a, ended = own.ids["hearing_live"], own.ids["hearing_earlier"]
    page = pages(allowed=("409",))
    login(page, "clerk", f"/clerk?hearing={room_a}")
    expect(page.locator("#signoff")).to_be_enabled()
    signoffs_of_ended: list[str] = []
    page.on("request", lambda r: signoffs_of_ended.append(r.url)
            if r.method == "POST" and r.url.endswith(f"/api/hearings/{ended}/signoff") else None)

    def recording_lost(route: Route) -> None:  # as a hearing whose recording directory is gone reads
        resp = route.fetch()
        route.fulfill(response=resp, body=json.dumps({**resp.json(), "recording_lost": True}))

    page.route(f"**/api/hearings/{ended}/record", recording_lost)
    with held(page, f"**/api/hearings/{room_a}/signoff", "POST") as signoffs:
        page.locator("#signoff").click()
        wait_until(page, lambda: signoffs)
        page.select_option("#hearing-select", str(ended))
        expect(page.locator(f"#clerk-transcript #seg-{own.ids['segment_plaintiff']}")).to_be_visible()
        signoffs[0].fulfill(status=409, content_type="application/json",
                            body=json.dumps({"detail": "录音尚未归档"}))
        expect(page.locator(".toast", has_text="录音尚未归档")).to_be_visible()
    expect(page.locator("#record-bar .ask-box")).to_have_count(0)
    assert not signoffs_of_ended
    with own.client("clerk") as clerk:
        assert clerk.get(f"/api/hearings/{ended}/record").json()["signatures"] == []


def _docx_text(path: object) -> str:
    import docx

    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def test_the_court_record_downloaded_again_after_a_correction_has_the_correction(pages, own) -> None:
    """The clerk downloads the court record (DOCX), a line is corrected, the clerk downloads it again: the
    second file has the correction (the first download's file was downloaded again, kept for the day)."""
    room, line = own.ids["hearing_b"], own.ids["segment_b"]
    page = pages()
    login(page, "clerk", f"/clerk?hearing={room}")
    expect(page.locator(f"#clerk-transcript #seg-{line}")).to_be_visible()
    with page.expect_download() as first:
        page.click("#export-docx")
    with own.client("clerk") as clerk:
        now = clerk.get(f"/api/segments/{line}").json()
        corrected = "第二次下载须见此更正。"
        assert now["text"] in _docx_text(first.value.path())
        clerk.patch(f"/api/segments/{line}", json={
            "text": corrected, "reason": "听音核对", "revision": now["revision"]}).raise_for_status()
    expect(page.locator(f"#seg-{line} .text")).to_have_text(corrected)  # (its live correction shown)
    with page.expect_download() as second:
        page.click("#export-docx")
    assert corrected in _docx_text(second.value.path())


def test_a_hearing_ended_on_the_console_is_shown_ended_in_the_picker_and_its_card_goes(pages, own) -> None:
    """闭庭 pressed for the open room: the picker says the hearing ended and its card goes at once, as the
    console opened again shows it (the picker said 休庭/进行中 and the card stayed until a reload); the
    transcript stays open, for corrections and sign-off. A hearing another terminal ends goes the same way."""
    started = []
    with own.client("clerk") as clerk:
        for title in ("本台闭庭", "他处闭庭"):
            r = clerk.post(f"/api/cases/{own.ids['case_b']}/hearings", json={"courtroom_id": own.ids["room_1"],
                           "title": title, "scheduled_start": datetime.now(UTC).isoformat()})
            assert r.status_code == 201, r.text
            started.append(int(r.json()["id"]))
    with sqlite3.connect(own.data_dir / "courtroom.sqlite3", timeout=10) as db:
        db.executemany("UPDATE hearings SET status = 'paused', started_at = datetime('now') WHERE id = ?",
                       [(h,) for h in started])
    here, elsewhere = started
    page = pages()
    login(page, "clerk", f"/clerk?hearing={here}")
    for hearing in started:
        expect(page.locator(f".room[data-hearing-id='{hearing}'] h3 .tag")).to_have_attribute(
            "data-i18n", "status.paused")
    option = page.locator(f"#hearing-select option[value='{here}']")
    expect(option).to_contain_text("休庭")
    page.locator("#hearing-stop").click()
    page.locator("#hearing-stop-confirm").click()
    expect(option).to_contain_text("已结束")
    expect(page.locator(f".room[data-hearing-id='{here}']")).to_have_count(0)
    expect(page.locator("#hearing-select")).to_have_value(str(here))
    expect(page.locator("#clerk-title")).to_contain_text("第一法庭")
    expect(page.locator("#hearing-stop")).to_be_hidden()
    with own.client("judge") as judge:
        judge.post(f"/api/hearings/{elsewhere}/stop").raise_for_status()
    expect(page.locator(f".room[data-hearing-id='{elsewhere}']")).to_have_count(0)
    expect(page.locator(f"#hearing-select option[value='{elsewhere}']")).to_contain_text("已结束")


def test_the_clerk_picker_s_next_page_misses_no_hearing_when_one_ends_between_pages(pages, own) -> None:
    """The picker read its next page from where the last one ended in the ranking (the running hearings
    first); a hearing that ended between the pages moved from the top to its time's place, the hearings
    after it moved up a place, and the one moved past the page's edge was on neither page."""
    with own.client("clerk") as clerk:
        made = {}
        for title, start in (("翻页时闭庭", datetime.now(UTC)), ("两月后开庭", datetime.now(UTC) + timedelta(days=60))):
            r = clerk.post(f"/api/cases/{own.ids['case_b']}/hearings", json={
                "courtroom_id": own.ids["room_2"], "title": title, "scheduled_start": start.isoformat()})
            assert r.status_code == 201, r.text
            made[title] = int(r.json()["id"])
        ending, ahead = made["翻页时闭庭"], made["两月后开庭"]
        with sqlite3.connect(own.data_dir / "courtroom.sqlite3", timeout=10) as db:
            db.execute("UPDATE hearings SET status = 'paused', started_at = datetime('now') WHERE id = ?", (ending,))

        def ranked() -> list[int]:  # (each page is listed oldest first: one a page gives the ranking)
            out: list[int] = []
            while page := clerk.get("/api/hearings", params={"limit": 1, "offset": len(out)}).json():
                out.append(int(page[0]["id"]))
            return out

        ranking = ranked()
    # The first page ends just before the hearing two months ahead (the newest of those neither running nor near).
    size = ranking.index(ahead)
    assert ranking.index(ending) < size, ranking
    page = pages()
    login(page, "clerk", f"/clerk?page_size={size}")
    expect(page.locator(f"#hearing-select option[value='{ending}']")).to_have_count(1)
    expect(page.locator(f"#hearing-select option[value='{ahead}']")).to_have_count(0)
    with own.client("judge") as judge:
        judge.post(f"/api/hearings/{ending}/stop").raise_for_status()
    page.locator("#hearing-more").click()
    expect(page.locator(f"#hearing-select option[value='{ahead}']")).to_have_count(1)
