"""Helpers for comparing captured audio with what was played or decoded."""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve


def best_lag(captured: np.ndarray, played: np.ndarray) -> tuple[int, float]:
    """Lag of ``played`` inside ``captured`` (1-D) and the normalised correlation there."""
    cc = fftconvolve(captured, played[::-1], mode="full")
    k = int(np.argmax(np.abs(cc)))
    lag = k - (len(played) - 1)
    seg = captured[max(lag, 0) : lag + len(played)]
    ref = played[max(0, -lag) : max(0, -lag) + len(seg)]
    denom = float(np.sqrt(np.sum(seg.astype(np.float64) ** 2) * np.sum(ref.astype(np.float64) ** 2))) or 1.0
    return lag, float(np.dot(seg.astype(np.float64), ref.astype(np.float64)) / denom)


def seat_energy_order(audio: np.ndarray, turns: int) -> list[int]:
    """For audio split into ``turns`` equal spans, the loudest channel of each span."""
    spans = np.array_split(audio, turns)
    return [int(np.argmax(np.sqrt(np.mean(s.astype(np.float64) ** 2, axis=0)))) for s in spans]
