"""Verify a recording: every manifest entry chained to the one before, every file its hash.

Reports OK or the first break, classified:

* ``changed``: a segment (or final) file's bytes, or a manifest entry's content, differ;
* ``removed``: a segment file is missing, or an entry's predecessor is nowhere in the manifest;
* ``inserted``: an entry whose successor still points past it, an entry after the ``final`` one (nothing
  follows a finalized recording), or a segment file on disk that the manifest does not list;
* ``reordered``: entries out of order (the predecessor comes later), or segment files swapped;
* ``corrupt``: the manifest cannot be read at all.

Each broken segment is named with its stretch of recording time (``h:mm:ss–h:mm:ss``, from the manifest:
after a gap it is not the segment number times its length), and a changed final recording or track with
where its audio first differs from the segments.

Removing the last entries of an unfinalized recording cannot be seen from the files alone: keep
the chain head (``VerifyResult.chain_head``) elsewhere, as the dossier does, and give it back as
``expected_head``: a chain that ends before it is ``removed``, one that goes on past it ``inserted``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from capture.container import SEGMENT_SUFFIXES, segment_container
from capture.errors import ManifestError
from capture.manifest import GENESIS, chain_hash, file_sha256, read_entries
from capture.types import BreakKind, VerifyResult


class _Break(Exception):
    def __init__(self, kind: BreakKind, index: int | None, message: str) -> None:
        super().__init__(message)
        self.kind: BreakKind = kind
        self.index = index


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def time_span(first: int, frames: int, rate: int) -> str:
    """The recording time ``frames`` from ``first`` cover, as ``0:00:20–0:00:30``."""
    return f"{_clock(first / rate)}–{_clock(math.ceil((first + frames) / rate))}"


def _span(entry: dict[str, Any], rate: Any) -> str:
    """The recording time an entry covers, e.g. ``, 0:00:20–0:00:30``; empty where the manifest cannot say."""
    first, frames = entry.get("first_sample"), entry.get("frames")
    if not (isinstance(first, int) and isinstance(frames, int) and isinstance(rate, int) and rate > 0):
        return ""
    return f", {time_span(first, frames, rate)}"


def _label(entry: dict[str, Any], pos: int, rate: Any = None) -> str:
    if entry.get("type") == "segment":
        return f"segment {entry.get('index')} ({entry.get('file')}{_span(entry, rate)}, manifest line {pos + 1})"
    return f"{entry.get('type')} entry at manifest line {pos + 1}"


def _first_difference(directory: Path, entries: list[dict[str, Any]], final: dict[str, Any]) -> str:
    """Where a changed final recording or track first differs from the (verified) segments, compared
    block by block; the Opus mixdown is lossy, so it is not compared."""
    from capture.finalize import _timeline, pcm_format  # finalize verifies with this module

    if final.get("role") not in ("recording", "track"):
        return ""
    rate, channel = entries[0]["sample_rate"], final.get("channel")
    dtype, _ = pcm_format(entries[0]["subtype"])
    at = 0  # samples compared equal so far
    try:
        with sf.SoundFile(directory / final["file"]) as f:
            for pcm in _timeline(directory, entries, dtype):  # (frames, channels)
                want = pcm if channel is None else pcm[:, channel : channel + 1]
                got = f.read(len(want), dtype=dtype, always_2d=True)
                if got.shape != want.shape or not np.array_equal(got, want):
                    n = min(len(got), len(want)) if got.shape[1:] == want.shape[1:] else 0
                    rows = np.flatnonzero((got[:n] != want[:n]).any(axis=1))
                    if not len(rows) and len(got) < len(want):  # what it holds matches: it was cut short
                        end = sum(e["frames"] for e in entries if e["type"] in ("segment", "gap"))
                        return (f"; it ends at {_clock((at + len(got)) / rate)}, before the recording's end "
                                f"({_clock(end / rate)})")
                    return _where(entries, at + int(rows[0] if len(rows) else n), rate)
                at += len(want)
            if len(f.read(1, dtype=dtype)):
                return f"; it holds audio past the recording's end ({_clock(at / rate)})"
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        return f"; its audio cannot be read after {_clock(at / rate)} ({exc})"
    return "; its audio still matches the segments"


def _where(entries: list[dict[str, Any]], sample: int, rate: int) -> str:
    """The recording time of ``sample`` and the segment (or gap) holding it."""
    pos, entry = next(((p, e) for p, e in enumerate(entries) if e["type"] in ("segment", "gap")
                       and e["first_sample"] <= sample < e["first_sample"] + e["frames"]), (0, None))
    held = f", in {_label(entry, pos, rate) if entry['type'] == 'segment' else 'a gap'}" if entry else ""
    return f"; its audio first differs from the segments at {_clock(sample / rate)}{held}"


def _check_links(entries: list[dict[str, Any]]) -> None:
    chains = [e.get("chain") for e in entries]
    rate = entries[0].get("sample_rate")
    for pos, entry in enumerate(entries):
        if chain_hash(entry.get("prev", ""), entry) != entry.get("chain"):
            raise _Break("changed", entry.get("index"), f"{_label(entry, pos, rate)} was altered: its hash does not match")
        expected = chains[pos - 1] if pos else GENESIS
        prev = entry.get("prev")
        if prev == expected:
            continue
        if prev in chains[pos + 1 :]:
            raise _Break("reordered", entry.get("index"), f"{_label(entry, pos, rate)} is out of order: "
                         f"its predecessor comes later in the manifest")
        if prev in chains[: max(0, pos - 1)]:
            earlier = entries[pos - 1]
            raise _Break("inserted", earlier.get("index"), f"{_label(earlier, pos - 1, rate)} was inserted: "
                         f"the entry after it was chained to an earlier one")
        raise _Break("removed", entry.get("index"), f"the entry before {_label(entry, pos, rate)} was removed: "
                     "its predecessor is not in the manifest")


def _check_nothing_after_final(entries: list[dict[str, Any]]) -> None:
    # finalize appends the last entry and resume refuses a finalized recording: whatever follows it
    # was added later, even chained correctly.
    final = next((pos for pos, e in enumerate(entries) if e.get("type") == "final"), None)
    if final is not None and final + 1 < len(entries):
        pos, entry = final + 1, entries[final + 1]
        raise _Break("inserted", entry.get("index"), f"{_label(entry, pos, entries[0].get('sample_rate'))} "
                     f"was inserted: it follows the final entry (manifest line {final + 1})")


def _check_head(entries: list[dict[str, Any]], expected: str) -> None:
    """The chain ends at ``expected``, the head kept elsewhere (a prefix of it, any case)."""
    expected = expected.lower()
    head = entries[-1]["chain"]
    if head.startswith(expected):
        return
    pos = next((p for p, e in enumerate(entries) if e["chain"].startswith(expected)), None)
    if pos is None:
        raise _Break("removed", None, f"chain head {head} is not the expected {expected}: "
                     "entries were removed from the end")
    added, entry = len(entries) - pos - 1, entries[pos + 1]
    raise _Break("inserted", entry.get("index"), f"{added} {'entry was' if added == 1 else 'entries were'} "
                 f"appended after the expected head {expected}, from "
                 f"{_label(entry, pos + 1, entries[0].get('sample_rate'))}")


def _check_timeline(entries: list[dict[str, Any]]) -> None:
    end, index, rate = 0, 0, entries[0].get("sample_rate")
    for pos, e in enumerate(entries):
        if e["type"] in ("segment", "gap"):
            if e["first_sample"] != end:
                kind: BreakKind = "removed" if e["first_sample"] > end else "inserted"
                raise _Break(kind, e.get("index"), f"{_label(e, pos, rate)} starts at sample {e['first_sample']}, "
                             f"the timeline before it ends at {end}")
            end += e["frames"]
        if e["type"] == "segment":
            if e["index"] != index:
                kind = "removed" if e["index"] > index else "reordered"
                raise _Break(kind, e["index"], f"{_label(e, pos, rate)} found where segment {index} was expected")
            index += 1


def _check_files(directory: Path, entries: list[dict[str, Any]]) -> None:
    segments = [e for e in entries if e["type"] == "segment"]
    by_hash = {e["sha256"]: e for e in segments}
    rate = entries[0]["sample_rate"]
    for e in segments:
        path = directory / e["file"]
        name = f"segment {e['index']} ({e['file']}{_span(e, rate)})"
        if not path.is_file():
            raise _Break("removed", e["index"], f"{name} was removed")
        digest = file_sha256(path)
        if digest == e["sha256"]:
            continue
        if digest in by_hash:
            other = by_hash[digest]
            raise _Break("reordered", e["index"], f"{name} holds the audio of "
                         f"segment {other['index']}{_span(other, rate)}: segments were swapped")
        raise _Break("changed", e["index"], f"{name} was changed: sha256 differs")
    listed = {e["file"] for e in segments}
    finalized = any(e["type"] == "final" for e in entries)
    # A crash between a segment's rename and its manifest entry leaves the next file on disk,
    # uncommitted (resume rewrites it); it is not part of the record, so not an insertion.
    uncommitted = f"segments/{len(segments):06d}{segment_container(entries[0]['channels']).suffix}"
    on_disk = [p for suffix in SEGMENT_SUFFIXES for p in (directory / "segments").glob(f"*{suffix}")]
    for path in sorted(on_disk):
        name = f"segments/{path.name}"
        if name not in listed and (finalized or name != uncommitted):
            raise _Break("inserted", None, f"{name} is not in the manifest: a segment was inserted")
    for e in entries:
        for f in e.get("files", []) if e["type"] == "final" else []:
            path = directory / f["file"]
            if not path.is_file():
                raise _Break("removed", None, f"finalized file {f['file']} was removed")
            if file_sha256(path) != f["sha256"]:
                raise _Break("changed", None, f"finalized file {f['file']} was changed: sha256 differs"
                             f"{_first_difference(directory, entries, f)}")


def verify_recording(directory: Path | str, expected_head: str | None = None) -> VerifyResult:
    """Check a recording directory's hash chain, timeline and files; OK or the first break.

    ``expected_head``: the chain head kept elsewhere (the dossier's, or a prefix of it): the chain must
    end there."""
    directory = Path(directory)
    try:
        entries = read_entries(directory)
    except ManifestError as exc:
        return VerifyResult(False, 0, False, "corrupt", None, str(exc))
    return verify_entries(directory, entries, expected_head)


def verify_entries(directory: Path, entries: list[dict[str, Any]], expected_head: str | None = None) -> VerifyResult:
    """``verify_recording`` on manifest entries already read (one read serves a caller's own checks)."""
    segments = sum(1 for e in entries if e.get("type") == "segment")
    finalized = any(e.get("type") == "final" for e in entries)
    head = entries[-1].get("chain", "") if entries else ""
    try:
        if not entries or entries[0].get("type") != "start":
            raise _Break("removed", None, "the manifest's start entry is missing")
        _check_links(entries)
        _check_nothing_after_final(entries)
        _check_timeline(entries)
        _check_files(directory, entries)
        if expected_head:
            _check_head(entries, expected_head)
    except _Break as brk:
        return VerifyResult(False, segments, finalized, brk.kind, brk.index, str(brk), head)
    except (KeyError, TypeError) as exc:
        return VerifyResult(False, segments, finalized, "corrupt", None, f"malformed manifest entry: {exc}", head)
    return VerifyResult(True, segments, finalized, chain_head=head)
