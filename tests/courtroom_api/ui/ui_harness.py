"""Playwright harness (fixtures re-exported by this folder's conftest): the real server (uvicorn in a subprocess on a free port, temp SQLite data
directory, migrated, statutes imported) and Debian's Chromium, never a downloaded browser.

Every page fixture collects console errors and uncaught page errors; a test fails if any appear.
Screenshots go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ui_seed import PASSWORD, seed

REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORTS = {"1920x1080": (1920, 1080), "1280x800": (1280, 800)}


@dataclass
class UiServer:
    """The running server: base URL, data directory and the environment its CLI uses."""

    base_url: str
    data_dir: Path
    env: dict[str, str]
    log: Path
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'courtroom.sqlite3'}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``courtroom ARGS…`` against the same data directory; fails the test on error."""
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], cwd=REPO, env=self.env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, f"courtroom {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
        return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server not healthy after {timeout_s} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextmanager
def serving(data_dir: Path, extra_env: dict[str, str] | None = None, *, statutes: bool = False,
            evidence: bool = True, stop_timeout_s: float = 15) -> Iterator[UiServer]:
    """A seeded courthouse in DATA_DIR (migrated, users/cases/hearings, evidence unless told not) on a
    `courtroom serve` of its own on a free port; stopped (then killed) on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTROOM_")}
    env |= {"COURTROOM_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env |= extra_env or {}
    port = _free_port()
    server = UiServer(f"http://127.0.0.1:{port}", data_dir, env, data_dir / "server.log")
    server.cli("db", "upgrade")
    if statutes:
        server.cli("statutes", "import", "--demo")
    server.ids = seed(server.database_url).ids
    with server.log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "courtroom_api.cli", "serve", "--port", str(port)],
                                cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(server.base_url, proc, server.log)
        if evidence:
            server.ids.update(upload_evidence(server))
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=stop_timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    with serving(tmp_path_factory.mktemp("ui-data"), statutes=True) as server:
        yield server


# Module scope: sync Playwright keeps an event loop running in the main thread while it is open,
# which breaks asyncio tests collected after the UI tests; a Chromium start costs about a second.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium (scripts/setup.sh test)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class ConsoleLog:
    """Console errors and uncaught exceptions seen by one page."""

    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)  # substrings a test expects (e.g. a refused request)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


def watch(page: object, log: ConsoleLog) -> None:
    page.on("console", lambda m: log.errors.append(f"console: {m.text} @ {m.location}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def context(browser: object, ui_server: UiServer) -> Iterator[object]:
    ctx = browser.new_context(base_url=ui_server.base_url, viewport={"width": 1920, "height": 1080},
                              has_touch=True, locale="zh-CN")
    yield ctx
    ctx.close()


def page_on(browser: Any, server: UiServer, console: ConsoleLog, size: tuple[int, int] = (1920, 1080)) -> Iterator[object]:
    """A touch page of SERVER (a server of a test's own, in a context of its own); the test fails if the
    page logs a console error. For a fixture to ``yield from``."""
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": size[0], "height": size[1]},
                              has_touch=True, locale="zh-CN")
    pg = ctx.new_page()
    watch(pg, console)
    yield pg
    ctx.close()
    assert not console.unexpected(), "console errors:\n" + "\n".join(console.unexpected())


@pytest.fixture
def page(context: object, console: ConsoleLog) -> Iterator[object]:
    """A page of the real server; the test fails if the page logs a console error."""
    pg = context.new_page()
    watch(pg, console)
    yield pg
    assert not console.unexpected(), "console errors:\n" + "\n".join(console.unexpected())


def screenshots(page: object, name: str) -> list[Path]:
    """Save the page at 1920×1080 and 1280×800 (the touch panel) under test-artifacts/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, (w, h) in VIEWPORTS.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(150)  # let ResizeObserver refit the exhibit
        path = SCREENSHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path))
        paths.append(path)
    page.set_viewport_size({"width": 1920, "height": 1080})
    return paths


def login(page: object, user: str, landing: str) -> None:
    """Sign in through the login page and wait for the terminal page (``landing``) to be ready.

    The landing is passed as ``next`` to the login page (a judge may open the clerk console too).
    """
    from urllib.parse import quote

    page.goto(f"/login?next={quote(landing)}")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"**{landing}*")
    page.wait_for_selector("body[data-ready='1']")


def api_token(client: object, user: str) -> str:
    """A bearer token for a seeded user (OAuth2 password flow)."""
    resp = client.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def upload_evidence(server: UiServer) -> dict[str, int]:
    """Exhibits uploaded through the real API as the clerk: three for case A, one for case B."""
    import httpx
    from ui_files import contract_pdf, drawing_png, scene_mp4, statement_wav

    files = [
        ("evidence_contract", "case_a", "借款合同", "contract.pdf", "application/pdf", contract_pdf()),
        ("evidence_drawing", "case_a", "现场平面图", "plan.png", "image/png", drawing_png("原告方现场平面图")),
        ("evidence_audio", "case_a", "电话录音", "call.wav", "audio/wav", statement_wav()),
        ("evidence_video", "case_a", "监控录像", "scene.mp4", "video/mp4", scene_mp4()),
        ("evidence_b", "case_b", "买卖合同（另案）", "other.png", "image/png", drawing_png("另案证据 — 不得外泄")),
    ]
    out: dict[str, int] = {}
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        auth = {"Authorization": f"Bearer {api_token(client, 'clerk')}"}
        for key, case, title, filename, mime, data in files:
            resp = client.post(f"/api/cases/{server.ids[case]}/evidence", content=data,
                               params={"title": title, "filename": filename},
                               headers={**auth, "Content-Type": mime})
            assert resp.status_code == 201, resp.text
            out[key] = int(resp.json()["id"])
    return out
