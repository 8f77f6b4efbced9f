import sys
from pathlib import Path

# Shared helpers of the API tests (tiny generated evidence files) are imported by module name.
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402
from api_world import World, build_world  # noqa: E402


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def world(request, tmp_path_factory) -> World:
    """The same courthouse on a real SQLite file and on PostgreSQL."""
    data_dir = tmp_path_factory.mktemp(f"world-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'courtroom.sqlite3'}"
    else:
        url = request.getfixturevalue("pg_url")
    w = build_world(data_dir, url)
    yield w
    w.client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def whisper_base(tmp_path_factory) -> str:
    """The multilingual base model assembled once per test session (a local CTranslate2 directory)."""
    from transcribe.model_store import ModelStore

    return str(ModelStore(tmp_path_factory.mktemp("model-cache")).resolve("base"))
