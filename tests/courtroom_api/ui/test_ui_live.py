"""A replayed hearing through the real pipeline (capture → recorder → Whisper → attribution → hub),
watched live on the bench and in the clerk console."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import expect
from ui_harness import ConsoleLog, api_token, login, screenshots, watch

SAMPLE = Path(__file__).resolve().parents[3] / "hardware" / "samples" / "demo_hearing.flac"
WATCH_PARTIALS = """() => {
  window.__sawPartial = false;
  new MutationObserver(() => {
    if (document.querySelector('#bench-transcript .line.partial .tag.provisional')) window.__sawPartial = true;
  }).observe(document.querySelector('#bench-transcript'), {childList: true, subtree: true});
}"""


def _page(browser, ui_server, console: ConsoleLog):
    ctx = browser.new_context(base_url=ui_server.base_url, viewport={"width": 1920, "height": 1080}, has_touch=True)
    page = ctx.new_page()
    watch(page, console)
    return ctx, page


def _first_seconds(tmp_path: Path, seconds: float) -> Path:
    """The demo sample's first seconds (clerk, then judge in Mandarin and English): a short replay
    keeps the test quick, and stopping it has little left to transcribe."""
    import soundfile as sf

    audio, rate = sf.read(SAMPLE, frames=int(seconds * 16000), always_2d=True)  # (frames, 4 channels)
    out = tmp_path / "demo_start.flac"
    sf.write(out, audio, rate)
    return out


def _settled(api, bench, hid: int, headers: dict) -> tuple[dict, list]:
    """Stored segments and the bench's final lines, once the last events after the stop arrived."""
    import time

    deadline = time.monotonic() + 10
    while True:
        stored = {s["id"]: s for s in api.get(f"/api/hearings/{hid}/segments", headers=headers).json()}
        shown = bench.locator("#bench-transcript .line:not(.partial)").evaluate_all(
            "els => els.map(e => [Number(e.dataset.segmentId), e.querySelector('.text').textContent])")
        if (shown and all(stored.get(sid, {}).get("text") == text for sid, text in shown)) or time.monotonic() > deadline:
            return stored, shown
        time.sleep(0.3)


def _bench_replay_streams_and_seeks(bench, hid: int, start: float) -> None:
    """The line-replay player streams the filed recording through a signed media link, and seeks."""
    player = "document.querySelector('#bench-transcript').replayAudio"
    # (The same line was replayed from an excerpt while live: its player is ready on the excerpt until the
    # tap's media link for /play arrives, which a loaded host takes a while over. Fails if it never does.)
    bench.wait_for_function(f"() => {player}.src.includes('/api/hearings/{hid}/play?mt=') && {player}.readyState >= 1")
    target = round(start / 2, 2)
    bench.evaluate(f"(t) => {{ {player}.pause(); {player}.currentTime = t; }}", target)
    bench.wait_for_function(f"(t) => Math.abs({player}.currentTime - t) < 0.1 && !{player}.seeking", arg=target)


def _bench_replays_a_line_of_the_live_hearing(bench, line) -> None:
    """Tapped while the hearing is still being recorded (no filed recording yet: /play answers 409), a
    line plays from an excerpt of the recording being made."""
    player = "document.querySelector('#bench-transcript').replayAudio"
    line.tap()
    bench.wait_for_function(f"() => {player}.readyState >= 1")
    assert "/excerpt?mt=" in bench.evaluate(f"() => {player}.src")
    start = float(line.get_attribute("data-start"))
    assert float(bench.locator("#bench-transcript").get_attribute("data-replay-start")) == start


def _appeal_search_plays_from_the_hit(page, stored: dict) -> None:
    """Search the filed hearing for a word of its transcript: the player starts at that line."""
    import re

    def words_of(s: dict) -> list[str]:
        return re.findall(r"[A-Za-z]{4,}|[\u4e00-\u9fff]{2,4}", s["text"])

    # The latest line with a word to search for (a final can be a one-character fragment): a clearly
    # non-zero offset.
    seg = max((s for s in stored.values() if words_of(s) and s["start_s"] > 1.0), key=lambda s: s["start_s"])
    words = words_of(seg)
    login(page, "appeal", "/search")
    page.fill("#q", words[0])
    page.click("#search-go")
    hit = page.locator(f".hit[data-segment-id='{seg['id']}']")
    expect(hit).to_be_visible()
    hit.locator("[data-action=play]").click()
    page.wait_for_function(
        "(t) => { const a = document.querySelector('#player'); return a.readyState >= 1 && a.currentTime >= t - 0.05; }",
        arg=seg["start_s"])
    assert float(page.locator("#player").get_attribute("data-start")) == seg["start_s"]
    assert "/play?mt=" in page.evaluate("() => document.querySelector('#player').src")
    screenshots(page, "search-playing")


def _a_bench_opened_later_shows_the_record_as_corrected(browser, ui_server, console, api, hid: int,
                                                       stored: dict, headers: dict) -> None:
    """The clerk corrects a line and seals another after the end; a bench opened then shows both, each line
    once (it replayed the ended stream's old events over them: the old text, unsealed)."""
    first, second = sorted(stored.values(), key=lambda s: s["start_s"])[:2]
    corrected = "（核对录音）" + first["text"]
    resp = api.patch(f"/api/segments/{first['id']}", headers=headers,
                     json={"text": corrected, "reason": "核对录音", "revision": first["revision"]})
    assert resp.status_code == 200, resp.text
    resp = api.post(f"/api/segments/{second['id']}/seal", headers=headers, json={"sealed": True, "reason": "涉及隐私"})
    assert resp.status_code == 200, resp.text
    ctx, bench = _page(browser, ui_server, console)
    try:
        login(bench, "judge", f"/bench?hearing={hid}")
        expect(bench.locator(f"#seg-{first['id']} .text")).to_have_text(corrected)
        expect(bench.locator(f"#seg-{second['id']}")).to_have_class(re.compile(r"\bsealed\b"))
        shown = bench.locator("#bench-transcript .line").evaluate_all("els => els.map(e => e.dataset.segmentId)")
        assert sorted(shown) == sorted(str(i) for i in stored), shown
    finally:
        ctx.close()


def test_bench_and_clerk_follow_a_replayed_hearing_live(browser, ui_server, tmp_path) -> None:
    ids = ui_server.ids
    clip = _first_seconds(tmp_path, 13.5)
    console = ConsoleLog()
    with httpx.Client(base_url=ui_server.base_url, timeout=120) as api:
        clerk = {"Authorization": f"Bearer {api_token(api, 'clerk')}"}
        made = api.post(f"/api/cases/{ids['case_a']}/hearings", headers=clerk,
                        json={"courtroom_id": ids["room_1"], "title": "第三次开庭（回放）"})
        assert made.status_code == 201, made.text
        hid = made.json()["id"]
        bench_ctx, bench = _page(browser, ui_server, console)
        clerk_ctx, console_page = _page(browser, ui_server, console)
        sockets: list[str] = []
        bench.on("websocket", lambda ws: sockets.append(ws.url.split("?")[0]))
        try:
            login(bench, "judge", f"/bench?hearing={hid}")
            bench.click("#layout-switch")
            bench.click("button[role=tab][data-pane=transcript]")
            expect(bench.locator("#bench-transcript .line")).to_have_count(0)
            bench.evaluate(WATCH_PARTIALS)
            expect(bench.locator("#hearing-start")).to_be_visible()  # scheduled: the judge may open it
            login(console_page, "clerk", "/clerk")
            started = api.post(f"/api/hearings/{hid}/start", headers=clerk,
                               json={"source": "file", "url": str(clip), "speed": 1.5})
            assert started.status_code == 200, started.text
            finals = bench.locator("#bench-transcript .line:not(.partial)")
            expect(finals.nth(1)).to_be_visible(timeout=120_000)  # lines arrive without a reload
            room = console_page.locator(f".room[data-hearing-id='{hid}']")
            expect(room.locator(".meter")).to_have_count(4)
            expect(room.locator(".meter[data-seat='judge']")).to_be_visible()
            screenshots(bench, "bench-live")
            screenshots(console_page, "clerk-live")
            _bench_replays_a_line_of_the_live_hearing(bench, finals.nth(1))
            expect(bench.locator("#hearing-start")).to_be_hidden()
            bench.click("#hearing-stop")  # the judge closes the hearing from the bench…
            bench.click("#hearing-stop-confirm")  # …and confirms it
            expect(bench.locator("#hearing-stop")).to_be_hidden(timeout=120_000)
            expect(bench.locator("body")).to_have_attribute("data-live", "ended")  # the stream ended with it
            opened = len(sockets)
            assert api.get(f"/api/hearings/{hid}", headers=clerk).json()["status"] == "ended"
            stored, shown = _settled(api, bench, hid, clerk)
            assert shown and all(stored[sid]["text"] == text for sid, text in shown), (shown, stored)
            assert any(s["role"] == "clerk" for s in stored.values()), [  # attributed by seat
                    (s["start_s"], s["seat"], s["role"], s["text"]) for s in stored.values()]
            assert bench.evaluate("() => window.__sawPartial"), "no provisional line was ever shown"
            # Tap a line: its audio plays from the filed recording.
            finals.nth(1).click()
            bench.wait_for_function("() => document.querySelector('#bench-transcript .line.playing') !== null")
            start = float(finals.nth(1).get_attribute("data-start"))
            assert float(bench.locator("#bench-transcript").get_attribute("data-replay-start")) == start
            _bench_replay_streams_and_seeks(bench, hid, start)
            assert len(sockets) == opened, sockets  # no reconnect to an ended stream (it did every 0.5 s)
            appeal_ctx, appeal = _page(browser, ui_server, console)
            try:
                _appeal_search_plays_from_the_hit(appeal, stored)
            finally:
                appeal_ctx.close()
            _a_bench_opened_later_shows_the_record_as_corrected(browser, ui_server, console, api, hid, stored, clerk)
        finally:
            bench_ctx.close()
            clerk_ctx.close()
    assert not console.unexpected(), console.unexpected()
