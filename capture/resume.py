"""What a restarted recorder needs from a recording left behind by a crash."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from capture.errors import RecorderError
from capture.journal import read_journal
from capture.manifest import FORMAT, read_entries


@dataclass
class ResumeState:
    head: str  # chain hash of the last entry
    next_sample: int  # end of the committed timeline
    next_index: int  # next segment number
    anchor: tuple[int, float]  # latest known (sample, wall time)
    recovered: list[tuple[int, np.ndarray]] = field(default_factory=list)  # journal runs (first, pcm)


def _committed(entries: list[dict]) -> tuple[int, int, tuple[int, float]]:
    end, index = 0, 0
    start = entries[0]
    anchor = (0, float(start.get("started_at", 0.0)))
    for e in entries:
        if e["type"] in ("segment", "gap"):
            end = max(end, e["first_sample"] + e["frames"])
        if e["type"] == "segment":
            index = e["index"] + 1
            if "wall_time" in e:
                anchor = (e["first_sample"], float(e["wall_time"]))
        if e["type"] == "gap" and "end_wall_time" in e:  # an outage up to a recess or a shutdown (outage_until)
            anchor = (e["first_sample"] + e["frames"], float(e["end_wall_time"]))
        if e["type"] == "resume":
            end = max(end, e["at_sample"])
            anchor = (e["at_sample"], float(e["wall_time"]))
    return end, index, anchor


def committed_until_s(directory: Path) -> float | None:
    """Seconds of the recording's timeline committed in ``directory`` (segments, gaps, resumes): where it
    goes on from; None when it has none yet. Raises CaptureError when there is no recording there."""
    entries = read_entries(directory)
    if not entries or entries[0].get("type") != "start":
        return None
    end = _committed(entries)[0]
    return end / entries[0]["sample_rate"] if end else None


def _journal_runs(directory: Path, committed_end: int) -> list[tuple[int, np.ndarray]]:
    """Contiguous runs of journal audio after the committed end (older records are duplicates)."""
    runs: list[tuple[int, list[np.ndarray]]] = []
    expect = -1
    for rec in read_journal(directory):
        first, pcm = rec.first_sample, rec.pcm
        if first + len(pcm) <= committed_end:
            continue
        if first < committed_end:
            pcm, first = pcm[committed_end - first :], committed_end
        if first == expect and runs:
            runs[-1][1].append(pcm)
        elif first > expect:
            runs.append((first, [pcm]))
        else:
            continue  # overlaps what was already taken: a repeated record
        expect = first + len(pcm)
    return [(first, np.concatenate(blocks)) for first, blocks in runs]


def resume_state(directory: Path, sample_rate: int, channels: int) -> ResumeState:
    """Read the manifest and the journal; refuse a recording of another format."""
    entries = read_entries(directory)
    if not entries or entries[0].get("type") != "start" or entries[0].get("format") != FORMAT:
        raise RecorderError(f"{directory}: manifest does not start with a {FORMAT} start entry")
    start = entries[0]
    if start["sample_rate"] != sample_rate or start["channels"] != channels:
        raise RecorderError(
            f"{directory} holds a recording of {start['channels']} channels at {start['sample_rate']} Hz; "
            f"cannot continue it with {channels} channels at {sample_rate} Hz"
        )
    if any(e["type"] == "final" for e in entries):
        raise RecorderError(f"{directory} is finalized; a finalized recording cannot be continued")
    end, index, anchor = _committed(entries)
    recovered = _journal_runs(directory, end)
    return ResumeState(entries[-1]["chain"], end, index, anchor, recovered)
