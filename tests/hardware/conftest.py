from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.capture.pulse_server import PulseServer, pulse_fixture


@pytest.fixture(scope="session")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    yield from pulse_fixture(tmp_path_factory)
