from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture.pulse_server import PulseServer, pulse_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "capture"


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    yield from pulse_fixture(tmp_path_factory)


@pytest.fixture(scope="session")
def four_seats() -> Path:
    """4 channels, 16 kHz, 2 s: each seat speaks in its own half second (scripts/make_capture_fixtures.py)."""
    return FIXTURES / "four_seats.flac"
