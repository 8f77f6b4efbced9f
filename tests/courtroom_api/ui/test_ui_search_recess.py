"""Appeal search and the full transcript play a line of a hearing in recess (休庭): its recording is not
filed yet (/play answers 409), so the line plays from an excerpt of the recording being made, as the bench
does; where nothing of it is recorded the page says so. A real server of its own with the seeded
courthouse, hearing_live's recording directory written by the real recorder, Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect
from ui_harness import ConsoleLog, UiServer, login, page_on, serving

RATE = 16000
SEATS = ("judge", "clerk", "plaintiff", "defendant")


def _record(directory: Path, seconds: float) -> None:
    """What the recorder of a hearing in recess leaves on disk: closed segments and their manifest."""
    from capture.recorder import Recorder, RecorderOptions
    from capture.types import AudioChunk

    recorder = Recorder(directory, RATE, len(SEATS), RecorderOptions(segment_seconds=5.0, seats=SEATS,
                                                                   gains_db=(0.0,) * len(SEATS)))
    audio = (np.random.default_rng(1).standard_normal((round(seconds * RATE), len(SEATS))) * 0.05).astype(np.float32)
    for at in range(0, len(audio), RATE // 10):
        recorder.write(AudioChunk(audio[at : at + RATE // 10], RATE, at, 0.0))
    recorder.close()


@pytest.fixture(scope="module")
def recess_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """The seeded courthouse: hearing_live (paused) has 20 s recorded and its recording row, not finalized."""
    from courtroom_api.config import get_settings
    from models import Recording
    from models.db import make_engine, session_factory

    data_dir = tmp_path_factory.mktemp("recess-data")
    with serving(data_dir, evidence=False) as server:
        hid = server.ids["hearing_live"]
        _record(get_settings(data_dir=data_dir).hearing_recording_dir(hid), 20.0)
        engine = make_engine(server.database_url)
        with session_factory(engine)() as s:
            s.add(Recording(hearing_id=hid, sample_rate=RATE, channel_count=len(SEATS), channel_layout=[]))
            s.commit()
        engine.dispose()
        yield server


@pytest.fixture
def page(browser, recess_server: UiServer, console: ConsoleLog) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from page_on(browser, recess_server, console)


# The page's player has an excerpt of the hearing from `from` loaded, without error, and plays from `at` into it.
PLAYS = """([from, at]) => { const a = document.querySelector('#player');
  return a.readyState >= 1 && !a.error && a.src.includes('/excerpt?mt=') && a.src.includes(`&start=${from}&`)
    && a.currentTime >= at - 0.05 && a.currentTime < at + 1.5; }"""


def test_search_plays_a_hit_of_a_hearing_in_recess_from_an_excerpt(recess_server, page) -> None:
    """Play filled "now playing" and the player stayed silent (a format error after /play's 409), nothing said."""
    hid = recess_server.ids["hearing_live"]
    login(page, "appeal", "/search")
    page.fill("#q", "还款收据")
    page.click("#search-go")
    hit = page.locator(f".hit[data-hearing-id='{hid}']")
    expect(hit).to_have_count(1)
    hit.locator("[data-action=play]").click()
    # the line starts at 3.2 s: the excerpt from 2.9 s, played from 0.3 s into it
    page.wait_for_function(PLAYS, arg=["2.90", 0.3])
    assert float(page.locator("#player").get_attribute("data-start")) == 3.2


def test_search_says_when_a_hit_of_a_hearing_in_recess_has_nothing_recorded(recess_server, page, console) -> None:
    """hearing_b is in recess with no recording on this server: the player cannot play it, and the page says so."""
    console.allowed.append("409")  # the refused excerpt, as the browser logs it
    login(page, "appeal", "/search")
    page.fill("#q", "质量问题")
    page.click("#search-go")
    hit = page.locator(f".hit[data-hearing-id='{recess_server.ids['hearing_b']}']")
    hit.locator("[data-action=play]").click()
    expect(page.locator(".toast-error")).to_be_visible()


def test_the_full_transcript_plays_the_lines_of_a_hearing_in_recess(recess_server, page) -> None:
    """Opened at a hit's line, tapping a line did nothing (and every later tap did nothing either)."""
    hid = recess_server.ids["hearing_live"]
    login(page, "appeal", "/search")
    page.goto(f"/transcript?hearing={hid}")
    page.wait_for_selector("body[data-ready='1']")
    lines = page.locator("#full-transcript .line")
    expect(lines).to_have_count(2)
    lines.nth(1).locator(".text").first.click()
    page.wait_for_function(PLAYS, arg=["2.90", 0.3])
    lines.nth(0).locator(".text").first.click()  # the first line, at 0 s: an excerpt from 0 s
    page.wait_for_function(PLAYS, arg=["0.00", 0.0])


def test_of_two_hits_tapped_quickly_the_later_one_plays(recess_server, page) -> None:
    """The first hit's status read came back after the second tap: "now playing" named the second hit and the
    player played the first one's hearing."""
    live, earlier = recess_server.ids["hearing_live"], recess_server.ids["hearing_earlier"]
    held = []
    login(page, "appeal", "/search")
    page.fill("#q", "开庭")
    page.click("#search-go")
    expect(page.locator(f".hit[data-hearing-id='{live}']")).to_have_count(1)
    page.route(f"**/api/hearings/{earlier}", lambda route: held.append(route))  # the first tap's status read waits
    page.locator(f".hit[data-hearing-id='{earlier}'] [data-action=play]").click()
    while not held:
        page.wait_for_timeout(50)
    page.locator(f".hit[data-hearing-id='{live}'] [data-action=play]").click()
    page.wait_for_function(PLAYS, arg=["0.00", 0.0])
    held[0].continue_()
    page.wait_for_timeout(1000)  # what the first tap would do once its read came back
    assert page.evaluate(PLAYS, ["0.00", 0.0]), page.evaluate("() => document.querySelector('#player').src")


def test_the_full_transcript_plays_on_past_the_line_and_reads_the_status_at_each_tap(recess_server, page,
                                                                                  console) -> None:
    """The page read the hearing's status once: ended and filed after it opened, each tap still asked for an
    excerpt (404 until a reload). And a tap in a recess played only that line, not on from there."""
    console.allowed.append("409")  # /play of the hearing the server still has in recess
    hid = recess_server.ids["hearing_live"]
    login(page, "appeal", "/search")
    page.goto(f"/transcript?hearing={hid}")
    page.wait_for_selector("body[data-ready='1']")
    lines = page.locator("#full-transcript .line")
    lines.nth(1).locator(".text").first.click()
    page.wait_for_function(PLAYS, arg=["2.90", 0.3])
    assert "&end=302.89" in page.evaluate("() => document.querySelector('#player').src")  # as far as an excerpt runs

    def ended(route):  # type: ignore[no-untyped-def]
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "status": "ended"})

    page.route(f"**/api/hearings/{hid}", ended)
    lines.nth(0).locator(".text").first.click()
    page.wait_for_function(f"() => document.querySelector('#player').dataset.mediaPath === '/api/hearings/{hid}/play'")
    expect(page.locator(".toast-error")).to_have_count(1)  # the server has it in recess: said, and once
    page.wait_for_timeout(500)
    expect(page.locator(".toast-error")).to_have_count(1)


@pytest.mark.parametrize(("who", "url", "lines"), [("judge", "/bench?hearing={}", "#bench-transcript .line"),
                                                   ("clerk", "/clerk?hearing={}", "#clerk-transcript .line")])
def test_the_bench_and_the_clerk_console_say_when_a_line_cannot_be_replayed(recess_server, page, console, who,
                                                                              url, lines) -> None:
    """hearing_b is in recess with nothing recorded: a tapped line's excerpt was refused (409) and nothing said."""
    console.allowed.append("409")  # the refused excerpt, as the browser logs it
    login(page, who, url.format(recess_server.ids["hearing_b"]))
    page.locator(lines).first.locator(".text").first.click()
    expect(page.locator(".toast-error")).to_have_count(1)
