"""The clerk's warning that the recordings disk is running out, while there is time to free space.

A full disk costs audio (the recorder holds closed segments in memory for a while, then records the
rest as gaps) and leaves no room for the finalize, which writes the whole recording twice more (the
multi-channel file and the seat tracks). So the estimate is conservative: raw PCM size (as WAV stores a
room of more than 8 channels; FLAC only shrinks it), and every second already recorded reserves its two finalize copies. It is per hearing;
with several hearings on one disk each sees the same free space, so the first warning is the honest
one for the room that fills it fastest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BYTES_PER_SAMPLE = {"PCM_16": 2, "PCM_24": 3}
CLEAR_FACTOR = 1.25  # hysteresis: cleared only well above the threshold, so a room at the edge does not flap


def recording_minutes_left(free_bytes: int, byte_rate: float, recorded_s: float) -> float:
    """Minutes of this hearing the disk still holds, its finalize included (0 when it no longer fits)."""
    reserve = 2 * recorded_s * byte_rate  # the finalize's two copies of what is already recorded
    return max(0.0, (free_bytes - reserve) / (3 * byte_rate) / 60)


@dataclass(slots=True)
class DiskAlarm:
    warn_minutes: float = 60.0
    active: bool = False

    def update(self, free_bytes: int, minutes_left: float) -> dict[str, Any] | None:
        """The alarm event to publish when the state changes with this reading, else None."""
        free = f"recordings disk {free_bytes / 2**30:.1f} GiB free"
        if not self.active and minutes_left < self.warn_minutes:
            self.active = True
            return {"kind": "disk_low", "active": True, "value": round(minutes_left, 1),
                    "message": f"{free}: about {minutes_left:.0f} min of this hearing left, finalizing "
                               "included; free space now or audio will be lost"}
        if self.active and minutes_left > self.warn_minutes * CLEAR_FACTOR:
            self.active = False
            return {"kind": "disk_low", "active": False, "value": round(minutes_left, 1),
                    "message": f"{free}: about {minutes_left:.0f} min left"}
        return None
