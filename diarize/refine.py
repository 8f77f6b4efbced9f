"""Turn-level refinement of a diarization pass with whole-turn CAM++ embeddings.

pyannote's pipeline clusters embeddings of *local* speakers found by segmentation-3.0 in 10 s
windows. When segmentation merges two voices into one local speaker inside a window (seen with
synthetic voices: two robotic male voices in one window), that mixed embedding drags a turn into
the wrong cluster. In a courtroom the speaker changes almost always at a pause, so each output turn
is re-embedded as a whole and reassigned to the nearest cluster centroid, k-means style, a few
rounds. Turns too short for a reliable embedding keep their label.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from diarize.embedding import embed


def refine(
    turns: tuple, speakers: tuple[str, ...], centroids: np.ndarray, wave16k: np.ndarray, offset_s: float,
    min_turn_s: float = 1.0, rounds: int = 4,
) -> tuple[tuple, tuple[str, ...], np.ndarray]:
    """Reassign ``turns`` (SpeakerTurn, times offset by ``offset_s``) to clusters by turn embedding.

    ``wave16k`` is the mono 16 kHz audio ``(frames,)`` the turns were found in. Returns the new
    turns, the speakers that still have turns, and their centroids ``(n, 192)``.
    """
    if len(speakers) < 2:
        return turns, speakers, centroids
    index = {s: k for k, s in enumerate(speakers)}
    long = [k for k, t in enumerate(turns) if t.end - t.start >= min_turn_s]
    if len(long) < 2:
        return turns, speakers, centroids
    emb = np.stack([embed(wave16k[int((turns[k].start - offset_s) * 16000) : int((turns[k].end - offset_s) * 16000)]) for k in long])
    labels = np.array([index[turns[k].speaker] for k in long])
    cents = _unit_rows(np.asarray(centroids, dtype=np.float32))
    for _ in range(rounds):
        for c in range(len(speakers)):
            if np.any(labels == c):
                cents[c] = _unit_rows(emb[labels == c].mean(axis=0, keepdims=True))[0]
        new = np.argmax(emb @ cents.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    relabelled = list(turns)
    for k, c in zip(long, labels, strict=True):
        relabelled[k] = dataclasses.replace(turns[k], speaker=speakers[c])
    used = [s for s in speakers if any(t.speaker == s for t in relabelled)]
    return tuple(relabelled), tuple(used), cents[[index[s] for s in used]]


def _unit_rows(m: np.ndarray) -> np.ndarray:
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
