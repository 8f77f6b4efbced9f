"""A real ``courtroom serve`` subprocess on a free port, with helpers to seed it through the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "live-hearing-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    data_dir: Path
    db_url: str
    port: int = 0
    proc: subprocess.Popen | None = None
    extra_env: dict[str, str] | None = None
    prelude: str = ""  # Python the server's process runs before its CLI (a test's crash point)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "COURTROOM_DATA_DIR": str(self.data_dir), "COURTROOM_DATABASE__URL": self.db_url,
                "HF_HUB_OFFLINE": "1", "COURTROOM_CAPTURE__SEGMENT_SECONDS": "2", **(self.extra_env or {})}

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self.port = self.port or free_port()
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - closed with the process
        run = ["-c", f"{self.prelude}\nimport sys\nfrom courtroom_api.cli import main\nsys.exit(main())"] \
            if self.prelude else ["-m", "courtroom_api.cli"]
        self.proc = subprocess.Popen([sys.executable, *run, "serve", "--port", str(self.port)],
                                     env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("server did not start: " + (self.data_dir / "server.log").read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL: the crash a power cut would be."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None

    def token(self, login: str, password: str = PASSWORD) -> dict[str, str]:
        r = httpx.post(f"{self.base}/api/auth/token", data={"username": login, "password": password})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}
