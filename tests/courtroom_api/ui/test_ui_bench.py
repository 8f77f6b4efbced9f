"""The judge's bench terminal in real Chromium against the real server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import expect
from ui_harness import ConsoleLog, api_token, login, screenshots, watch

PANES = ["evidence", "transcript", "dossier", "compare", "notes", "statutes"]


def test_bench_opens_the_hearing_in_progress_with_role_colours(page, ui_server) -> None:
    login(page, "judge", "/bench")
    assert page.locator("body").get_attribute("data-hearing-id") == str(ui_server.ids["hearing_live"])
    lines = page.locator("#bench-transcript .line")
    expect(lines).to_have_count(2)
    assert "role-presiding_judge" in lines.nth(0).get_attribute("class")
    assert "role-defendant" in lines.nth(1).get_attribute("class")
    expect(lines.nth(1)).to_contain_text("还款收据")


def test_bench_switches_and_tiles_six_panes(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-tile")
    for name in PANES:
        expect(page.locator(f"#pane-{name}")).to_be_visible()
    screenshots(page, "bench-tile")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=dossier]")
    expect(page.locator("#pane-dossier")).to_be_visible()
    for name in set(PANES) - {"dossier"}:
        expect(page.locator(f"#pane-{name}")).to_be_hidden()
    page.click("button[role=tab][data-pane=transcript]")
    screenshots(page, "bench-switch-transcript")


def test_bench_dossier_shows_an_earlier_hearings_transcript(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=dossier]")
    page.click(f"#dossier [data-hearing-id='{ui_server.ids['hearing_earlier']}']")
    lines = page.locator("#dossier-transcript .line")
    expect(lines).to_have_count(6)
    expect(lines.nth(1)).to_contain_text("五万元")
    expect(page.locator("#dossier")).to_contain_text("Alice Chen")
    screenshots(page, "bench-dossier")


def test_bench_court_notes_are_kept(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=notes]")
    page.fill("#note-text", "被告称已还两万元，需核对收据原件。")
    page.click("#note-save")
    expect(page.locator("#notes-list .note").first).to_contain_text("核对收据原件")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click("button[role=tab][data-pane=notes]")
    expect(page.locator("#notes-list .note").first).to_contain_text("核对收据原件")
    note = page.locator("#notes-list .note").first
    note.locator("[data-action=edit]").click()
    note.locator("textarea").fill("已核对收据原件：金额不符。")
    note.locator("[data-action=save]").click()
    expect(page.locator("#notes-list .note").first).to_contain_text("金额不符")
    screenshots(page, "bench-notes")


def test_bench_statute_search_highlights_terms(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=statutes]")
    page.fill("#statute-query", "违约金")
    page.click("#statute-go")
    hits = page.locator("#statute-results .statute")
    expect(hits.first).to_be_visible()
    expect(hits.first.locator("mark").first).to_have_text("违约金")
    expect(hits.first).to_contain_text("第五百八十五条")
    page.fill("#statute-query", "borrower")
    page.click("#statute-go")
    expect(page.locator("#statute-results .statute mark").first).to_have_text("borrower")
    screenshots(page, "bench-statutes")


def test_bench_compares_a_document_and_a_transcript(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=compare]")
    left = page.locator("#compare-left")
    left.select_option(f"e:{ui_server.ids['evidence_contract']}")
    page.locator("#compare-right").select_option(f"h:{ui_server.ids['hearing_earlier']}")
    expect(page.locator("[data-side=left] .zoom-content img")).to_be_visible()
    expect(page.locator("[data-side=right] .line")).to_have_count(6)
    screenshots(page, "bench-compare")


TURN_EVENTS = """async () => {
  const { TranscriptView } = await import('/static/js/transcript.js');
  const root = document.createElement('div');
  document.body.append(root);
  const view = new TranscriptView(root);
  const final = (id, start, end, text, role, seat, extra = {}) =>
    ({ type: 'transcript.final', data: { id, start, end, text, role, seat, ...extra } });
  for (const ev of [
    final(1, 4.7, 5.8, '现在开庭。', 'presiding_judge', 'judge'),
    final(2, 6.3, 8.1, '本庭今天审理', 'presiding_judge', 'judge'),
    // Heard on the defendant's microphone (channel 2), credited to the plaintiff once final: the
    // provisional line still goes.
    { type: 'transcript.partial', data: { start: 13.3, end: 13.8, text: 'Yes', role: 'defendant', seat: 'defendant',
      channel: 2 } },
    final(4, 13.3, 13.8, 'Yes,', 'plaintiff', 'plaintiff', { channel: 2 }),
    final(5, 14.1, 16.2, 'Your Honor.', 'plaintiff', 'plaintiff'),
    final(3, 8.2, 10.6, '借款合同纠纷一案。', 'presiding_judge', 'judge'),
    final(6, 16.5, 17.0, '住址', 'plaintiff', 'plaintiff', { sealed: true }),
    final(7, 30.0, 31.0, 'Please continue.', 'plaintiff', 'plaintiff'),
  ]) view.apply(ev);
  const shown = (l) => getComputedStyle(l.querySelector('.badge')).visibility === 'visible';
  return [...root.querySelectorAll('.line')].map((l) => [l.dataset.segmentId, shown(l)]);
}"""


def test_a_speakers_pieces_read_as_one_turn(page, ui_server) -> None:
    """A long sentence arrives as two or three finals: the later pieces show no time or badge of their
    own, also when one arrives late; a sealed piece and a piece after a long pause stand alone. A
    provisional line goes when its channel's final arrives, credited to whichever seat."""
    login(page, "judge", "/bench")
    assert page.evaluate(TURN_EVENTS) == [["1", True], ["2", False], ["3", False], ["4", True], ["5", False],
                                          ["6", True], ["7", True]]


FILED_EVENTS = """async () => {
  const { TranscriptView } = await import('/static/js/transcript.js');
  const root = document.createElement('div');
  document.body.append(root);
  const picked = [];
  const view = new TranscriptView(root, { actions: (seg) => { picked.push(seg.id); return []; } });
  const final = (seq, segment_id, start, text) =>
    ({ seq, type: 'transcript.final', data: { segment_id, start, end: start + 1, text, role: 'clerk', seat: 'clerk' } });
  const state = () => [...root.querySelectorAll('.line')].map((l) => [l.dataset.segmentId, !!l.querySelector('.tag.unsaved')]);
  view.apply(final(10, null, 1.0, '全体起立。'));  // the dossier refused it for now
  view.apply(final(11, null, 3.0, '请坐。'));
  const before = state();
  view.apply({ seq: 12, type: 'transcript.filed', data: { seq: 10, segment_id: 41 } });
  view.apply({ seq: 13, type: 'transcript.filed', data: { seq: 99, segment_id: 77 } });  // not on screen
  const line = root.querySelector('#seg-41');
  return { before, after: state(), text: line && line.querySelector('.text').textContent, picked,
           scrolled: view.scrollTo(41) === line };
}"""


def test_a_final_filed_late_gets_its_segment_id_on_screen(page, ui_server) -> None:
    """A final shown while the dossier refused it is marked "not yet saved" and has no id; the later
    "filed" event redraws it with its id, so the clerk's correction buttons address the right segment."""
    login(page, "judge", "/bench")
    assert page.evaluate(FILED_EVENTS) == {"before": [["", True], ["", True]], "after": [["41", False], ["", True]],
                                           "text": "全体起立。", "picked": [None, None, 41], "scrolled": True}


RETRACTED_EVENTS = """async () => {
  const { TranscriptView } = await import('/static/js/transcript.js');
  const root = document.createElement('div');
  document.body.append(root);
  const view = new TranscriptView(root);
  const partial = (channel, text) => ({ type: 'transcript.partial',
    data: { start: 40.0, end: 41.0, text, role: 'witness', seat: 'witness', channel } });
  const final = (id, start, text) =>
    ({ type: 'transcript.final', data: { id, start, end: start + 1, text, role: 'presiding_judge', seat: 'judge', channel: 0 } });
  const provisional = () => [...root.querySelectorAll('.line.partial .text')].map((t) => t.textContent);
  view.apply(partial(3, '请求法庭依法'));  // the witness's utterance, every word unsure: dropped at its end
  view.apply(final(1, 45.0, '审判长第一句。'));
  const before = provisional();
  view.apply(partial(3, ''));  // its retraction
  const retracted = provisional();
  view.apply(partial(3, '我'));
  view.apply(partial(2, '被告'));
  const paused = view.apply({ type: 'status', data: { status: 'paused' } });  // the page handles it as well
  return { before, retracted, recess: provisional(), paused, lines: root.querySelectorAll('.line').length };
}"""


def test_a_provisional_line_whose_utterance_was_dropped_goes(page, ui_server) -> None:
    """An utterance dropped at its end (every word unsure) after its partials went out left its grey line
    at the bottom below every later final, through a recess too. An empty partial of its channel takes
    it back, and a recess or the end takes every provisional line away."""
    login(page, "judge", "/bench")
    assert page.evaluate(RETRACTED_EVENTS) == {"before": ["请求法庭依法"], "retracted": [], "recess": [],
                                               "paused": False, "lines": 1}


NEXT_HEARING = """async () => {
  const { nextHearing } = await import('/static/js/api.js');
  const now = Date.parse('2030-03-06T08:00:00Z');
  const at = (hours) => new Date(now + hours * 3600e3).toISOString();
  const row = (id, status, hours) => ({ id, status, scheduled_start: at(hours), started_at: null });
  // the list as the screens hold it: oldest first, the furthest ahead last
  const list = [row(1, 'scheduled', -24 * 30), row(2, 'ended', -3), row(3, 'scheduled', 1),
                row(4, 'scheduled', 24 * 8), row(5, 'scheduled', 24 * 20)];
  const late = [row(2, 'ended', -3), row(6, 'scheduled', -0.5), row(3, 'scheduled', 1), row(5, 'scheduled', 24 * 20)];
  const held = [row(1, 'scheduled', -24 * 30), row(2, 'ended', -3)];
  return [nextHearing(list, now).id, nextHearing(late, now).id, nextHearing(held, now).id, nextHearing([], now)];
}"""


def test_with_nothing_live_the_screens_open_the_next_hearing_due(page, ui_server) -> None:
    """With no hearing live the bench (and a party screen) opens the earliest scheduled hearing not yet started,
    one running a little late included; it opened the last of the list, the hearing furthest ahead (20 days
    away while today's was due in an hour). A month-old hearing never held is not "next": the latest is."""
    login(page, "judge", "/bench")
    assert page.evaluate(NEXT_HEARING) == [3, 6, 2, None]


def test_bench_court_note_keeps_its_line_breaks(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=notes]")
    page.fill("#note-text", "分行笔记要点：\n1. 证据P-1真实性存疑\n2. 下次庭审前核对合同")
    page.click("#note-save")
    note = page.locator("#notes-list .note", has_text="分行笔记要点").locator(".note-text")
    expect(note).to_be_visible()
    assert note.inner_text().split("\n") == ["分行笔记要点：", "1. 证据P-1真实性存疑", "2. 下次庭审前核对合同"]


def test_bench_court_note_is_deleted_only_once_confirmed(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=notes]")
    for text in ("留存笔记：原告举证期限", "待删笔记：庭后合议要点"):
        page.fill("#note-text", text)
        page.click("#note-save")
        expect(page.locator("#notes-list .note", has_text=text)).to_have_count(1)
    note = page.locator("#notes-list .note", has_text="待删笔记")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    note.locator("[data-action=delete]").tap()  # one tap next to edit: asks, deletes nothing
    expect(note.locator("[data-action=confirm-delete]")).to_be_visible()
    note.locator("[data-action=cancel-delete]").tap()
    expect(note.locator("[data-action=edit]")).to_be_visible()
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click("button[role=tab][data-pane=notes]")
    expect(note).to_have_count(1)  # still in the dossier
    note.locator("[data-action=delete]").tap()
    note.locator("[data-action=confirm-delete]").tap()
    expect(note).to_have_count(0)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.click("button[role=tab][data-pane=notes]")
    expect(page.locator("#notes-list .note", has_text="留存笔记")).to_have_count(1)  # the list is back…
    expect(note).to_have_count(0)  # …without the deleted note
    assert dialogs == []  # asked in the page, not with a browser dialog


def test_bench_statute_hit_opens_the_whole_article(page, ui_server) -> None:
    login(page, "judge", "/bench")
    page.click("#layout-switch")
    page.click("button[role=tab][data-pane=statutes]")
    page.fill("#statute-query", "违约金")
    page.click("#statute-go")
    hits = page.locator("#statute-results .statute")
    expect(hits.first).to_contain_text("第五百八十五条")
    count = hits.count()
    hits.first.locator("p").tap()  # a tap on the snippet opens the article
    text = page.locator("#statute-results .statute-text")
    expect(text).to_contain_text("还应当履行债务")  # past the 160-character snippet
    assert text.inner_text().split("\n") == [  # its three paragraphs, one a line
        "当事人可以约定一方违约时应当根据违约情况向对方支付一定数额的违约金，也可以约定因违约产生的损失赔偿额的计算方法。",
        "约定的违约金低于造成的损失的，人民法院或者仲裁机构可以根据当事人的请求予以增加；"
        "约定的违约金过分高于造成的损失的，人民法院或者仲裁机构可以根据当事人的请求予以适当减少。",
        "当事人就迟延履行约定违约金的，违约方支付违约金后，还应当履行债务。",
    ]
    expect(page.locator("#statute-results")).to_contain_text("中华人民共和国民法典 第五百八十五条")
    screenshots(page, "bench-statute-article")
    page.locator("[data-action=statute-back]").tap()
    expect(hits).to_have_count(count)  # back to the same hits
    # By keyboard: Enter on a hit's name opens it, Escape goes back to the hit.
    opener = hits.first.locator("[data-action=open-statute]")
    opener.focus()
    page.keyboard.press("Enter")
    expect(text).to_contain_text("还应当履行债务")
    page.keyboard.press("Escape")
    expect(hits).to_have_count(count)
    expect(opener).to_be_focused()


@contextmanager
def _screens(browser, ui_server) -> Iterator:  # type: ignore[no-untyped-def]
    """New pages, each in its own browser context, that fail the test on a console error; on the way out the
    live hearing's display is blank again (the shared server stays as the other UI tests expect it)."""
    console = ConsoleLog()
    contexts = []

    def new_page():  # type: ignore[no-untyped-def]
        ctx = browser.new_context(base_url=ui_server.base_url, viewport={"width": 1920, "height": 1080}, has_touch=True)
        contexts.append(ctx)
        page = ctx.new_page()
        watch(page, console)
        return page

    try:
        yield new_page
    finally:
        for ctx in contexts:
            ctx.close()
        with httpx.Client(base_url=ui_server.base_url) as client:
            client.put(f"/api/hearings/{ui_server.ids['hearing_live']}/display", json={"evidence_id": None},
                       headers={"Authorization": f"Bearer {api_token(client, 'judge')}"}).raise_for_status()
    assert not console.unexpected(), console.unexpected()


def _shown(ui_server) -> dict:
    with httpx.Client(base_url=ui_server.base_url) as client:
        return client.get(f"/api/hearings/{ui_server.ids['hearing_live']}/display",
                          headers={"Authorization": f"Bearer {api_token(client, 'judge')}"}).json()


def test_a_reloaded_bench_says_what_the_parties_see_and_switching_hearings_stops_it(browser, ui_server) -> None:
    """Reloaded while showing an exhibit, the bench said nothing was shown (banner hidden, button "Show")
    while the party screens still showed it, and switching hearings then left it on them."""
    ids = ui_server.ids
    drawing, contract = str(ids["evidence_drawing"]), str(ids["evidence_contract"])
    with _screens(browser, ui_server) as new_page:
        party, bench = new_page(), new_page()
        login(party, "terminal_a", "/party")
        login(bench, "judge", "/bench?pane=evidence")
        bench.click(f"#bench-evidence-list [data-evidence-id='{drawing}']")
        bench.click("#show-to-parties")
        expect(party.locator("#party-viewer")).to_have_attribute("data-evidence-id", drawing)
        bench.reload()
        bench.wait_for_selector("body[data-ready='1']")
        expect(bench.locator("#showing-banner")).to_be_visible()
        expect(bench.locator("#show-to-parties")).to_have_attribute("aria-pressed", "true")
        expect(bench.locator("#show-to-parties")).to_have_attribute("data-i18n", "ev.stop")
        expect(bench.locator("#bench-viewer")).to_have_attribute("data-evidence-id", drawing)
        expect(bench.locator(f"#bench-evidence-list [data-evidence-id='{drawing}']")).to_have_class("pick on")
        # Shown, as the banner says: the page turned on the reloaded bench is the parties' page.
        bench.click(f"#bench-evidence-list [data-evidence-id='{contract}']")
        bench.click("#bench-viewer [data-action='ev.next']")
        expect(party.locator("#party-viewer")).to_have_attribute("data-evidence-id", contract)
        expect(party.locator("#party-viewer")).to_have_attribute("data-page", "2")
        bench.select_option("#hearing-select", str(ids["hearing_earlier"]))
        expect(bench.locator("body")).to_have_attribute("data-hearing-id", str(ids["hearing_earlier"]))
        expect(party.locator("#party-waiting")).to_be_visible()
        expect(bench.locator("#showing-banner")).to_be_hidden()
        assert _shown(ui_server)["evidence_id"] is None


def test_a_second_bench_terminal_follows_what_the_first_shows(browser, ui_server) -> None:
    """A second bench of the hearing never learnt that the first showed an exhibit (only that it stopped)."""
    ids = ui_server.ids
    drawing, contract = str(ids["evidence_drawing"]), str(ids["evidence_contract"])
    with _screens(browser, ui_server) as new_page:
        party, bench, other = new_page(), new_page(), new_page()
        login(party, "terminal_a", "/party")
        login(bench, "judge", "/bench?pane=evidence")
        login(other, "judge", "/bench?pane=evidence")
        expect(other.locator("body")).to_have_attribute("data-live", "live")
        bench.click(f"#bench-evidence-list [data-evidence-id='{drawing}']")
        bench.click("#show-to-parties")
        expect(party.locator("#party-viewer")).to_have_attribute("data-evidence-id", drawing)
        expect(other.locator("#showing-banner")).to_be_visible()
        expect(other.locator("#show-to-parties")).to_have_attribute("aria-pressed", "true")
        expect(other.locator("#bench-viewer")).to_have_attribute("data-evidence-id", drawing)
        # It follows the page turned on the first (and sends nothing back: the first stays on its page).
        bench.click(f"#bench-evidence-list [data-evidence-id='{contract}']")
        bench.click("#bench-viewer [data-action='ev.next']")
        expect(other.locator("#bench-viewer")).to_have_attribute("data-page", "2")
        expect(other.locator("#bench-viewer")).to_have_attribute("data-evidence-id", contract)
        expect(party.locator("#party-viewer")).to_have_attribute("data-page", "2")
        # Stopped from the second bench: the first says so, and the parties see nothing.
        other.click("#show-to-parties")
        expect(party.locator("#party-waiting")).to_be_visible()
        expect(bench.locator("#showing-banner")).to_be_hidden()
        expect(bench.locator("#show-to-parties")).to_have_attribute("aria-pressed", "false")
        expect(other.locator("#showing-banner")).to_be_hidden()
        expect(bench.locator("#bench-viewer")).to_have_attribute("data-page", "2")
        assert _shown(ui_server)["evidence_id"] is None


LONG_LOAD = """async (n) => {
  const { TranscriptView } = await import('/static/js/transcript.js');
  const root = document.createElement('div');
  document.getElementById('dossier').append(root);  // on screen, as the dossier pane's
  const view = new TranscriptView(root, { numbered: true });
  const segments = Array.from({ length: n }, (_, i) =>
    ({ id: i + 1, start: i * 3, end: i * 3 + 2.5, text: `第${i}句陈述`, role: i % 2 ? 'plaintiff' : 'defendant',
       seat: i % 2 ? 'plaintiff' : 'defendant' }));
  const t0 = performance.now();
  view.load(segments);
  const ms = performance.now() - t0;
  const numbers = [...root.querySelectorAll('.lineno')].map((el) => el.textContent);
  root.remove();
  return { ms, count: numbers.length, first: numbers[0], last: numbers[numbers.length - 1] };
}"""


def test_a_long_transcript_opens_numbered_in_a_few_seconds(page, ui_server) -> None:
    """The dossier and compare panes number their lines: a 3,000-line transcript took half a minute to open
    (each line loaded numbered all lines drawn so far), and the bench froze meanwhile. Now well under a second."""
    login(page, "judge", "/bench?pane=dossier")
    out = page.evaluate(LONG_LOAD, 3000)
    assert (out["count"], out["first"], out["last"]) == (3000, "1", "3000")
    assert out["ms"] < 4000, f"{out['ms']:.0f} ms"


def test_a_clerk_s_bench_has_no_notes_pane_and_a_room_terminal_is_refused(page, ui_server) -> None:
    """Court notes are the judges' own (the API refuses anyone else): a clerk at the bench got an error toast
    at every hearing and a notes pane whose save could never work. A courtroom's terminal has no bench powers
    (its screen is /party): it is refused, as other pages refuse roles they are not made for."""
    login(page, "clerk", "/bench?pane=notes")
    expect(page.locator("body")).to_have_attribute("data-hearing-id", str(ui_server.ids["hearing_live"]))
    expect(page.locator("#pane-transcript")).to_be_visible()  # ?pane=notes: there is none
    page.select_option("#hearing-select", str(ui_server.ids["hearing_earlier"]))
    expect(page.locator("body")).to_have_attribute("data-hearing-id", str(ui_server.ids["hearing_earlier"]))
    page.wait_for_timeout(500)
    expect(page.locator(".toast-error")).to_have_count(0)
    expect(page.locator("button[role=tab][data-pane=notes]")).to_have_count(0)
    expect(page.locator("#pane-notes")).to_have_count(0)
    expect(page.locator("button[role=tab]")).to_have_count(5)
    page.click("#logout")
    page.wait_for_url("**/login*")
    login(page, "terminal_a", "/party")
    page.goto("/bench")
    page.wait_for_url("**/login?denied=*")
    expect(page.locator("#login-error")).to_be_visible()
