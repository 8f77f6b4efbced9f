"""The judge's 休庭 on a full recordings disk: the recess begins (the server holds the recording's last
seconds in memory), and the bench says so as a warning, not as an error. A real server whose recordings
directory is a real 32 MiB tmpfs that a filler file fills, a replayed hearing, Debian's Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from ui_harness import REPO, ConsoleLog, UiServer, api_token, login, page_on, serving

SPEECH = REPO / "tests" / "fixtures" / "api" / "demo_hearing_22s.flac"


@pytest.fixture
def full_disk_server(tmp_path: Path, tmpfs) -> Iterator[UiServer]:  # type: ignore[no-untyped-def]
    """The seeded courthouse on a server of its own, its recordings on a 32 MiB disk (no reserve on it)."""
    data_dir = tmp_path / "data"
    tmpfs(data_dir / "recordings", "32m")
    with serving(data_dir, {"COURTROOM_CAPTURE__DISK_RESERVE_MB": "0", "COURTROOM_CAPTURE__SEGMENT_SECONDS": "2"},
                 evidence=False, stop_timeout_s=30) as server:
        yield server


@pytest.fixture
def page(browser, full_disk_server: UiServer, console: ConsoleLog) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A page of that server; the test fails if the page logs a console error (a refused request too)."""
    yield from page_on(browser, full_disk_server, console)


def test_a_recess_on_a_full_disk_is_a_warning_on_the_bench(full_disk_server, page, fill_disk) -> None:
    """The recess worked (the hearing is in recess, its held audio written once space is freed), but the
    server answered 507 and the bench showed 出错 (and logged the refused request): the judge was told the
    休庭 had failed."""
    srv = full_disk_server
    with httpx.Client(base_url=srv.base_url, timeout=60) as api:
        api.headers["Authorization"] = f"Bearer {api_token(api, 'clerk')}"
        made = api.post(f"/api/cases/{srv.ids['case_a']}/hearings",
                        json={"courtroom_id": srv.ids["room_1"], "title": "第三次开庭"})
        assert made.status_code == 201, made.text
        hid = made.json()["id"]
        started = api.post(f"/api/hearings/{hid}/start", json={"source": "file", "url": str(SPEECH), "speed": 1})
        assert started.status_code == 200, started.text
        login(page, "judge", f"/bench?hearing={hid}")
        expect(page.locator("#hearing-pause")).to_be_visible()
        time.sleep(2.5)  # recorded, a segment on disk
        filler = fill_disk(srv.data_dir / "recordings")
        time.sleep(3.0)  # 3 s more that the disk refuses
        page.click("#hearing-pause")
        warning = page.locator("#toasts .toast-warning")
        expect(warning).to_contain_text("录音盘已满")
        expect(page.locator("#toasts .toast-error")).to_have_count(0)
        expect(page.locator("#hearing-start")).to_be_visible()  # in recess: the judge may go on
        expect(page.locator("#hearing-pause")).to_be_hidden()
        assert api.get(f"/api/hearings/{hid}").json()["status"] == "paused"
        filler.unlink()  # space freed: the held audio is written, the hearing ends and is filed
        assert api.post(f"/api/hearings/{hid}/stop").status_code == 200
