"""The clerk's alarms for a hearing whose live transcript has fallen behind its audio, or whose
decodes keep failing.

Under load the scheduler stretches every room's cadence, so text comes later rather than never; a
clerk watching forty rooms is told when a room is more than ``on_s`` behind, and when it has caught
up again (under ``off_s``: hysteresis, so a room hovering at the threshold does not flap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class LagAlarm:
    on_s: float = 10.0
    off_s: float = 5.0
    active: bool = False
    worst_s: float = 0.0

    def update(self, lag_s: float) -> dict[str, Any] | None:
        """The alarm event to publish when the state changes with this lag reading, else None."""
        self.worst_s = max(self.worst_s, lag_s) if self.active else lag_s
        if not self.active and lag_s > self.on_s:
            self.active = True
            return {"kind": "transcription_lag", "active": True, "value": round(lag_s, 1),
                    "message": f"live transcript {lag_s:.0f} s behind the audio (recording unaffected)"}
        if self.active and lag_s < self.off_s:
            self.active = False
            return {"kind": "transcription_lag", "active": False, "value": round(lag_s, 1),
                    "message": f"live transcript caught up (was up to {self.worst_s:.0f} s behind)"}
        return None


@dataclass(slots=True)
class DecodeFailureAlarm:
    """Raised once the model has failed ``after`` decodes of a stream in a row (one failure is shrugged
    off; a model failing every decode made no finals and raised no alarm at all: its audio counted as
    decoded, so the transcript was never behind), cleared when its decodes work again."""

    after: int = 3
    active: bool = False

    def update(self, consecutive: int, last_error: str) -> dict[str, Any] | None:
        """The alarm event to publish when the state changes with this reading, else None."""
        if not self.active and consecutive >= self.after:
            self.active = True
            return {"kind": "transcription_failed", "active": True, "value": consecutive,
                    "message": f"transcription failing: {consecutive} decodes in a row failed ({last_error}); "
                               "recording continues"}
        if self.active and consecutive == 0:
            self.active = False
            return {"kind": "transcription_failed", "active": False, "value": 0,
                    "message": "transcription working again"}
        return None
