import subprocess
import sys

from fastapi.testclient import TestClient

from courtroom_api.app import create_app
from courtroom_api.config import get_settings


def test_cli_help_lists_serve() -> None:
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "serve" in out.stdout


def test_health_and_openapi(tmp_path) -> None:
    client = TestClient(create_app(get_settings(data_dir=tmp_path)))
    assert client.get("/api/health").json() == {"status": "ok"}
    assert client.get("/openapi.json").json()["info"]["title"] == "Smart Courtroom"
