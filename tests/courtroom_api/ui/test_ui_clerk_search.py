"""Clerk console (rooms, correction with reason, markup, sealing) and the appeal search that sees
the clerk's correction."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect
from ui_harness import ConsoleLog, login, screenshots, watch


def test_clerk_console_lists_rooms_in_progress(page, ui_server) -> None:
    import re

    paths: list[str] = []
    page.on("request", lambda r: paths.append(r.url.split("?")[0]))
    login(page, "clerk", "/clerk")
    rooms = page.locator("#rooms .room")
    expect(rooms).to_have_count(2)  # case A's and case B's hearings in progress, one per courtroom
    # One court-wide hearing list, not every case's hearings one by one.
    assert any(p.endswith("/api/hearings") for p in paths), paths
    assert not [p for p in paths if re.search(r"/api/cases/\d+/hearings$", p)], paths
    expect(rooms.first).to_contain_text("第一法庭")
    expect(page.locator("#clerk-transcript .line")).to_have_count(2)
    screenshots(page, "clerk")


def test_clerk_correction_shows_up_in_search(browser, page, ui_server) -> None:
    ids = ui_server.ids
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(ids["hearing_earlier"]))
    line = page.locator(f"#clerk-transcript #seg-{ids['segment_defendant']}")
    expect(line).to_contain_text("两万元")
    line.locator("[data-action='tr.edit']").click()
    line.locator(".edit-text").fill("借款属实，但是我已经归还了叁万伍仟元。")
    line.locator("[data-action='save']").click()  # no reason yet: refused in the page
    expect(page.locator(".toast-error")).to_be_visible()
    line.locator(".edit-reason").fill("回放录音核对金额")
    line.locator("[data-action='save']").click()
    line = page.locator(f"#clerk-transcript #seg-{ids['segment_defendant']}")
    expect(line).to_contain_text("叁万伍仟元")
    assert "corrected" in line.get_attribute("class")
    screenshots(page, "clerk-corrected")

    search = page.context.new_page()
    login(search, "appeal", "/search")
    search.fill("#q", "叁万伍仟")
    search.click("#search-go")
    hit = search.locator(f".hit[data-segment-id='{ids['segment_defendant']}']")
    expect(hit).to_be_visible()
    expect(hit.locator("mark").first).to_contain_text("叁万伍仟")
    search.fill("#q", "两万元")
    search.click("#search-go")
    expect(search.locator(f".hit[data-segment-id='{ids['segment_defendant']}']")).to_have_count(0)


def test_a_line_corrected_by_someone_else_meanwhile_is_shown_before_the_clerk_saves_over_it(
        page, ui_server, console) -> None:
    """The clerk is typing a correction when the judge corrects the same line: the save is refused, the
    line shows the judge's text, the clerk's typing stays in the box with a notice of the change, and
    only a second, deliberate save replaces the judge's text, in one chain of revisions."""
    import httpx
    from ui_harness import api_token

    console.allowed.append("409 (Conflict)")  # the refused first save, logged by the browser
    ids = ui_server.ids
    seg = ids["segment_plaintiff"]
    judge_text = "被告向我借款五万元，约定三个月后归还，至今分文未还。"
    clerk_text = "被告向我借款五万元，约定三个月以后归还，至今未还。"
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(ids["hearing_earlier"]))
    line = page.locator(f"#clerk-transcript #seg-{seg}")
    expect(line).to_contain_text("至今未还")
    line.locator("[data-action='tr.edit']").click()
    line.locator(".edit-text").fill(clerk_text)
    line.locator(".edit-reason").fill("回放录音核对")
    with httpx.Client(base_url=ui_server.base_url, timeout=30) as api:
        judge = {"Authorization": f"Bearer {api_token(api, 'judge')}"}
        before = api.get(f"/api/segments/{seg}", headers=judge).json()
        r = api.patch(f"/api/segments/{seg}", headers=judge,
                      json={"text": judge_text, "reason": "审判长更正", "revision": before["revision"]})
        assert r.status_code == 200, r.text
        line.locator("[data-action='save']").click()
        expect(page.locator(".toast-error")).to_contain_text("未保存：此行已被他人更正")
        line = page.locator(f"#clerk-transcript #seg-{seg}")
        expect(line.locator(":scope > .text")).to_have_text(judge_text)
        expect(line.locator(".edit-changed")).to_be_visible()
        expect(line.locator(".edit-changed")).to_contain_text(judge_text)
        expect(line.locator(".edit-text")).to_have_value(clerk_text)
        assert api.get(f"/api/segments/{seg}", headers=judge).json()["text"] == judge_text
        screenshots(page, "clerk-changed-meanwhile")
        line.locator("[data-action='save']").click()
        expect(line.locator(":scope > .text")).to_have_text(clerk_text)
        expect(line.locator(".edit-box")).to_have_count(0)
        revs = api.get(f"/api/segments/{seg}/revisions", headers=judge).json()
    assert [(r["before_text"], r["after_text"]) for r in revs][-2:] == [
        (before["text"], judge_text), (judge_text, clerk_text)]


def test_the_clerk_names_who_said_an_unattributed_line(page, ui_server) -> None:
    """A line no seat or voice could credit ("未识别") is given to the witness who said it: a participant
    of the case picked from a list, with a reason, and the line shows them from then on."""
    ids = ui_server.ids
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(ids["hearing_earlier"]))
    line = page.locator("#clerk-transcript .line", has_text="（听不清）")
    expect(line).to_have_class(re.compile(r"\bunattributed\b"))
    line.locator("[data-action='tr.speaker']").click()
    line.locator(".speaker-pick").select_option(label="证人 王五")
    line.locator("[data-action='save']").click()  # no reason yet: refused in the page
    expect(page.locator(".toast-error")).to_be_visible()
    line.locator(".edit-reason").fill("回放录音，系证人发言")
    line.locator("[data-action='save']").click()
    line = page.locator("#clerk-transcript .line", has_text="（听不清）")
    expect(line.locator(".badge")).to_contain_text("证人 · 王五")
    expect(line).not_to_have_class(re.compile(r"\bunattributed\b"))
    page.reload()
    expect(page.locator("#clerk-transcript .line").first).to_be_visible()  # (the room's own hearing, first)
    page.locator("#hearing-select").select_option(str(ids["hearing_earlier"]))
    expect(page.locator("#clerk-transcript .line", has_text="（听不清）").locator(".badge")).to_contain_text("王五")


def test_clerk_markup_and_sealing(page, ui_server) -> None:
    ids = ui_server.ids
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(ids["hearing_earlier"]))
    line = page.locator(f"#clerk-transcript #seg-{ids['segment_witness']}")
    line.locator("[data-action='tr.highlight']").click()
    page.wait_for_function(f"() => document.querySelector('#seg-{ids['segment_witness']}').classList.contains('hl')")
    line.locator("[data-action='tr.note']").click()
    line.locator(".ask-text").fill("核对代理人意见")
    line.locator("[data-action='ok']").click()
    expect(page.locator(".toast").last).to_contain_text("✓")
    line.locator("[data-action='tr.seal']").click()
    line.locator(".ask-text").fill("涉及个人隐私")
    line.locator("[data-action='ok']").click()
    sealed = page.locator(f"#clerk-transcript #seg-{ids['segment_witness']}")
    page.wait_for_function(f"() => document.querySelector('#seg-{ids['segment_witness']}').classList.contains('sealed')")
    expect(sealed.locator(".tag.sealed")).to_be_visible()


def test_appeal_search_filters_plays_and_opens_the_transcript(page, ui_server) -> None:
    login(page, "appeal", "/search")
    page.fill("#q", "receipt")
    page.click("#search-go")
    hits = page.locator(".hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("(2024)吉2424民初123号")
    page.select_option("#role", "defendant")
    page.click("#search-go")
    expect(page.locator(".hit")).to_have_count(0)
    page.select_option("#role", "agent")
    page.click("#search-go")
    expect(page.locator(".hit")).to_have_count(1)
    # Case and date filters: the hit's hearing was 30 days ago, in case A.
    page.fill("#case", "(2024)吉2424民初456号")
    page.click("#search-go")
    expect(page.locator(".hit")).to_have_count(0)
    page.fill("#case", "(2024)吉2424民初123号")
    today = date.today()
    page.fill("#from", (today - timedelta(days=40)).isoformat())
    page.fill("#to", (today - timedelta(days=20)).isoformat())
    page.click("#search-go")
    expect(page.locator(".hit")).to_have_count(1)
    page.fill("#from", (today - timedelta(days=10)).isoformat())
    page.fill("#to", "")
    page.click("#search-go")
    expect(page.locator(".hit")).to_have_count(0)
    page.fill("#from", "")
    page.click("#search-go")
    expect(page.locator(".hit")).to_have_count(1)
    screenshots(page, "search")
    with page.expect_navigation():
        page.locator(".hit a[data-i18n='tr.open']").first.click()
    page.wait_for_selector("body[data-ready='1']")
    target = page.locator(".line.target")
    expect(target).to_have_count(1)
    expect(target).to_contain_text("receipt")
    expect(target.locator(".lineno")).to_have_text("4")
    screenshots(page, "transcript")


def test_a_sealed_hit_is_tagged_sealed_and_a_linked_case_number_is_trimmed(page, ui_server) -> None:
    """A judge copying a snippet from the search page sees that its line is sealed (the hit did not say
    so, the clerk console did); a search link whose case number has blanks around it fills the case
    field trimmed, and finds the case."""
    from urllib.parse import urlencode

    import httpx
    from ui_harness import api_token

    ids = ui_server.ids
    seg = ids["segment_witness"]
    with httpx.Client(base_url=ui_server.base_url, timeout=30) as api:
        judge = {"Authorization": f"Bearer {api_token(api, 'judge')}"}
        was_sealed = api.get(f"/api/segments/{seg}", headers=judge).json()["sealed"]
        r = api.post(f"/api/segments/{seg}/seal", json={"reason": "涉及个人隐私"}, headers=judge)
        assert r.status_code == 200, r.text
        try:
            login(page, "judge", "/search")
            page.goto("/search?" + urlencode({"q": "现金交给", "case": " （2024）吉2424民初123号 "}))
            page.wait_for_selector("body[data-searched='1']")
            expect(page.locator("#case")).to_have_value("（2024）吉2424民初123号")
            hit = page.locator(f".hit[data-segment-id='{seg}']")
            expect(hit.locator(".meta .tag.sealed")).to_be_visible()
            expect(hit.locator(".tag.sealed")).to_have_text("已封存")
            screenshots(page, "search-sealed")
            page.fill("#q", "现在开庭")
            page.click("#search-go")
            expect(page.locator(".hit")).not_to_have_count(0)
            expect(page.locator(".hit .tag.sealed")).to_have_count(0)  # an open line has no tag
        finally:
            if not was_sealed:
                r = api.post(f"/api/segments/{seg}/seal", json={"sealed": False, "reason": "测试后恢复"}, headers=judge)
                assert r.status_code == 200, r.text


def test_sign_off_locks_the_record_until_a_judge_unlocks_it(browser, page, ui_server, console) -> None:
    ids = ui_server.ids
    hid, seg = ids["hearing_b"], ids["segment_b"]
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(hid))
    expect(page.locator(f"#seg-{seg}")).to_be_visible()
    page.click("#signoff")
    expect(page.locator("#record-state")).to_contain_text("书记员")
    expect(page.locator("#signoff")).to_be_disabled()
    expect(page.locator("#unlock")).to_be_hidden()  # only a judge unlocks
    judge_ctx = browser.new_context(base_url=ui_server.base_url, viewport={"width": 1920, "height": 1080})
    judge = judge_ctx.new_page()
    judge_console = ConsoleLog(allowed=[])
    watch(judge, judge_console)
    try:
        login(judge, "judge", "/clerk")
        judge.locator("#hearing-select").select_option(str(hid))
        judge.click("#signoff")
        expect(judge.locator("#record-state")).to_contain_text("笔录已签字锁定")
        screenshots(judge, "clerk-signed")
        # The clerk's console no longer offers corrections or seals on the locked record.
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.locator("#hearing-select").select_option(str(hid))
        expect(page.locator("#record-bar")).to_have_attribute("data-locked", "true")
        line = page.locator(f"#seg-{seg}")
        expect(line.locator("[data-action='tr.edit']")).to_be_hidden()
        expect(line.locator("[data-action='tr.seal']")).to_be_hidden()
        expect(line.locator("[data-action='tr.highlight']")).to_be_visible()
        judge.click("#unlock")
        judge.locator("#record-bar .ask-text").fill("书记员需更正第1行")
        judge.locator("#record-bar [data-action='ok']").click()
        expect(judge.locator("#record-bar")).to_have_attribute("data-locked", "false")
        expect(judge.locator("#unlock")).to_be_hidden()
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.locator("#hearing-select").select_option(str(hid))
        expect(page.locator(f"#seg-{seg} [data-action='tr.edit']")).to_be_visible()
    finally:
        judge_ctx.close()
    assert not judge_console.unexpected(), judge_console.unexpected()


def _ended_hearing_with_an_unfiled_recording(ui_server, case_number: str) -> int:
    """An ended hearing of a case of its own (the shared court's other hearings untouched), one line,
    and a recording that never reached the dossier (a filing that failed)."""
    from datetime import UTC, datetime, timedelta

    from models import Case, Hearing, Recording, TranscriptSegment
    from models.db import make_engine, session_factory

    engine = make_engine(ui_server.database_url)
    now = datetime.now(UTC)
    with session_factory(engine)() as s:
        court = s.get_one(Case, ui_server.ids["case_a"]).court_id
        case = Case(court_id=court, case_number=case_number, title="录音未归档测试", cause_of_action="买卖合同纠纷")
        s.add(case)
        s.flush()
        hearing = Hearing(case_id=case.id, courtroom_id=ui_server.ids["room_2"], title="第一次开庭", status="ended",
                          started_at=now - timedelta(days=2), ended_at=now - timedelta(days=2, hours=-1))
        s.add(hearing)
        s.flush()
        s.add_all([TranscriptSegment(hearing_id=hearing.id, seq=1, start_s=0, end_s=2, text="现在开庭。",
                                     role="presiding_judge", engine="test", model="seed"),
                   Recording(hearing_id=hearing.id, sample_rate=16000, channel_count=4, channel_layout=[])])
        s.commit()
        hid = int(hearing.id)
    engine.dispose()
    return hid


def test_a_record_whose_recording_is_lost_is_signed_without_it_in_the_console(page, ui_server, console) -> None:
    """A recording that can never be filed (its directory lost) held the record's sign-off up for good,
    and only a request by hand signed it (`without_recording`): the console offers it once refused,
    asking why. A recording still on the server, to be filed, is waited for: nothing is offered."""
    import httpx
    from ui_harness import api_token

    console.allowed.append("409")  # the refused sign-offs
    filing, lost = (_ended_hearing_with_an_unfiled_recording(ui_server, n)
                    for n in ("(2024)吉2424民初901号", "(2024)吉2424民初902号"))
    held = ui_server.data_dir / "recordings" / f"hearing-{filing}"  # held for a full disk, say
    held.mkdir(parents=True)
    (held / "manifest.jsonl").write_text("{}\n")
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(filing))
    expect(page.locator("#clerk-transcript .line")).to_have_count(1)
    page.click("#signoff")
    expect(page.locator(".toast-error")).to_contain_text("not yet filed")
    expect(page.locator("#record-bar .ask-box")).to_have_count(0)
    expect(page.locator("#signoff")).to_be_enabled()

    page.locator("#hearing-select").select_option(str(lost))
    expect(page.locator("#clerk-transcript .line")).to_have_count(1)
    page.click("#signoff")
    box = page.locator("#record-bar .ask-box")
    expect(box).to_contain_text("录音目录已丢失")
    expect(box.locator("[data-action='ok']")).to_have_text("不附录音签字")
    page.click("#lang-toggle")
    expect(box.locator("[data-action='ok']")).to_have_text("Sign without the recording")
    page.click("#lang-toggle")
    box.locator("[data-action='ok']").click()  # a reason is required
    expect(box).to_be_visible()
    box.locator(".ask-text").fill("录音目录随硬盘损毁")
    screenshots(page, "clerk-sign-without-recording")
    box.locator("[data-action='ok']").click()
    expect(page.locator("#record-state")).to_contain_text("书记员")
    expect(page.locator("#signoff")).to_be_disabled()
    expect(box).to_have_count(0)
    with httpx.Client(base_url=ui_server.base_url, timeout=30) as api:
        judge = {"Authorization": f"Bearer {api_token(api, 'judge')}"}
        signs = [e["details"] for e in api.get("/api/audit", params={"object": f"hearing:{lost}"}, headers=judge).json()
                 if e["action"] == "record.sign"]
        assert [(d["role"], d.get("without_recording"), d["note"]) for d in signs] == [
            ("clerk", True, "录音目录随硬盘损毁")], signs
        assert not [e for e in api.get("/api/audit", params={"object": f"hearing:{filing}"}, headers=judge).json()
                    if e["action"] == "record.sign"]


def test_court_record_downloads_as_pdf(page, ui_server) -> None:
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(ui_server.ids["hearing_live"]))
    with page.expect_download() as dl:
        page.click("#export-pdf")
    path = dl.value.path()
    assert open(path, "rb").read(5) == b"%PDF-"


def test_a_correction_voids_a_signature_and_a_record_changed_behind_the_api_is_flagged(page, ui_server) -> None:
    """The clerk signs, then corrects a line: the console drops the clerk's signature (the record it
    signed is gone) and offers sign-off again. Once both have signed, a line rewritten in the database
    behind the API shows as a record that is no longer what was signed."""
    import sqlite3

    import httpx
    from ui_harness import api_token

    ids = ui_server.ids
    hid, seg = ids["hearing_earlier"], ids["segment_counsel"]
    login(page, "clerk", "/clerk")
    page.locator("#hearing-select").select_option(str(hid))
    page.click("#signoff")
    expect(page.locator("#record-state")).to_contain_text("书记员")
    expect(page.locator("#signoff")).to_be_disabled()
    line = page.locator(f"#clerk-transcript #seg-{seg}")
    line.locator("[data-action='tr.edit']").click()
    line.locator(".edit-text").fill("The repayment of twenty thousand yuan is not supported by any written receipt.")
    line.locator(".edit-reason").fill("回放核对")
    line.locator("[data-action='save']").click()
    expect(page.locator(f"#clerk-transcript #seg-{seg}")).to_contain_text("written receipt")
    expect(page.locator("#record-state")).not_to_contain_text("书记员")
    expect(page.locator("#signoff")).to_be_enabled()

    db = ui_server.data_dir / "courtroom.sqlite3"
    with httpx.Client(base_url=ui_server.base_url, timeout=30) as api:
        judge = {"Authorization": f"Bearer {api_token(api, 'judge')}"}
        clerk = {"Authorization": f"Bearer {api_token(api, 'clerk')}"}
        for who in (clerk, judge):
            assert api.post(f"/api/hearings/{hid}/signoff", json={}, headers=who).status_code == 200
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.locator("#hearing-select").select_option(str(hid))
        expect(page.locator("#record-state")).to_contain_text("笔录已签字锁定")
        expect(page.locator("#record-changed")).to_have_count(0)
        with sqlite3.connect(db) as conn:
            original = conn.execute("select text from transcript_segments where id = ?", (seg,)).fetchone()[0]
            conn.execute("update transcript_segments set text = ? where id = ?",
                         (original.replace("twenty", "two"), seg))
        try:
            page.reload()
            page.wait_for_selector("body[data-ready='1']")
            page.locator("#hearing-select").select_option(str(hid))
            expect(page.locator("#record-changed")).to_be_visible()
            expect(page.locator("#record-changed")).to_contain_text("签字后被改动")
            screenshots(page, "clerk-record-changed")
        finally:  # the shared court as it was: the line's text back, the record unlocked
            with sqlite3.connect(db) as conn:
                conn.execute("update transcript_segments set text = ? where id = ?", (original, seg))
            assert api.post(f"/api/hearings/{hid}/unlock", json={"reason": "测试复原"}, headers=judge).status_code == 200
