"""Errors of the hardware package; every one names what is wrong and where."""

from __future__ import annotations

from pathlib import Path


class HardwareError(Exception):
    """Root of every error raised by :mod:`hardware`."""


class ProfileNotFoundError(HardwareError):
    """No bundled profile has that name and no file exists at that path."""


class ProfileError(HardwareError):
    """A courtroom profile file is malformed; the message names file, line and field."""

    def __init__(self, path: Path | str, field: str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.field = field
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: field '{field}': {message}")
