"""Diarization of shared channels with pyannote.audio's ``SpeakerDiarization`` pipeline, offline.

One microphone for several people (a witness stand used by a sequence of witnesses, a
single-microphone room, an uploaded mono recording): pyannote segmentation-3.0 finds who speaks
when within 10 s windows, CAM++ (:mod:`diarize.embedding`) embeds each local speaker, and
agglomerative clustering links them across windows. pyannote 4's default configuration wants a
PLDA model and VBx clustering from a hub; agglomerative clustering needs no PLDA, so a placeholder
is passed for the one pyannote insists on.

The number of speakers is left to the clustering unless a caller bounds it (never by the enrolled
voices: a speaker not enrolled would be merged into one who is). Clusters are named by
:class:`~diarize.voiceprints.SpeakerNamer` (enrolled participant or "unknown speaker N").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from diarize.errors import AudioShapeError, ModelUnavailableError
from diarize.types import SpeakerTurn
from diarize.voiceprints import SpeakerNamer, VoiceMatch, to_16k


@dataclass(frozen=True, slots=True)
class DiarizationOptions:
    """Pipeline hyper-parameters. ``segmentation_step`` is a fraction of the 10 s window."""

    clustering_threshold: float = 0.6
    clustering_method: str = "centroid"
    min_cluster_size: int = 3
    segmentation_step: float = 0.5
    min_duration_off: float = 0.0
    embedding_batch_size: int = 8
    segmentation_batch_size: int = 8
    embedding_exclude_overlap: bool = False
    # torch intra-op threads. 1 by default: on a 2-core machine shared with the transcriber,
    # OpenMP threads spinning at barriers under contention made a pass up to 15x slower.
    torch_threads: int = 1
    # Reassign whole turns by their own CAM++ embedding after clustering (diarize/refine.py).
    refine_turns: bool = True


# pyannote.audio's published default configuration for agglomerative clustering (the
# speaker-diarization-3.1 pipeline: 1 s hop, centroid linkage, threshold 0.7046, clusters of at
# least 12), used as the peer in bench/diarize.py on the same weights.
PYANNOTE_DEFAULTS = DiarizationOptions(
    clustering_threshold=0.7045654963945799,
    min_cluster_size=12,
    segmentation_step=0.1,
    embedding_batch_size=1,
    segmentation_batch_size=1,
    refine_turns=False,
)


@dataclass(frozen=True, slots=True, eq=False)
class DiarizationResult:
    """Turns of one pass (labelled by cluster) and each cluster's centroid embedding."""

    turns: tuple[SpeakerTurn, ...]
    speakers: tuple[str, ...]  # cluster labels, in the row order of ``centroids``
    centroids: np.ndarray  # (n_speakers, 192)

    def named(self, namer: SpeakerNamer) -> tuple[SpeakerTurn, ...]:
        """Turns relabelled with participant names / "unknown speaker N"."""
        names = dict(zip(self.speakers, namer.name_all(self.centroids), strict=True))
        return tuple(_rename(t, names.get(t.speaker)) for t in self.turns)


def _rename(turn: SpeakerTurn, match: VoiceMatch | None) -> SpeakerTurn:
    if match is None:
        return turn
    return SpeakerTurn(
        turn.start, turn.end, match.label, turn.channel, round(match.score, 3), match.participant_id, match.role
    )


def _pipeline(options: DiarizationOptions) -> Any:
    from diarize.embedding import shared_embedding_model
    from diarize.weights import import_pyannote, load_segmentation_model

    import_pyannote()
    from pyannote.audio.core.plda import PLDA
    from pyannote.audio.pipelines import SpeakerDiarization

    class _UnusedPLDA(PLDA):
        """pyannote's constructor demands a PLDA; agglomerative clustering never calls it."""

        def __init__(self) -> None:  # no weights: nothing to load
            pass

    pipeline = SpeakerDiarization(
        segmentation=load_segmentation_model(),
        embedding=shared_embedding_model(),
        plda=_UnusedPLDA(),
        clustering="AgglomerativeClustering",
        segmentation_step=options.segmentation_step,
        embedding_batch_size=options.embedding_batch_size,
        segmentation_batch_size=options.segmentation_batch_size,
        embedding_exclude_overlap=options.embedding_exclude_overlap,
    )
    pipeline.instantiate(
        {
            "segmentation": {"min_duration_off": options.min_duration_off},
            "clustering": {
                "method": options.clustering_method,
                "min_cluster_size": options.min_cluster_size,
                "threshold": options.clustering_threshold,
            },
        }
    )
    return pipeline


class SpeakerDiarizer:
    """pyannote.audio speaker diarization of mono audio, CPU-bound: call it from a worker thread."""

    def __init__(self, options: DiarizationOptions | None = None) -> None:
        self.options = options or DiarizationOptions()
        self._pipeline: Any = None
        self._lock = threading.Lock()  # one pass at a time per pipeline (it is not re-entrant)

    def _get_pipeline(self) -> Any:
        if self._pipeline is None:
            try:
                self._pipeline = _pipeline(self.options)
            except (OSError, RuntimeError, KeyError) as exc:
                raise ModelUnavailableError(f"cannot build the diarization pipeline: {exc}") from exc
        return self._pipeline

    def diarize(
        self,
        samples: np.ndarray,
        sample_rate: int,
        max_speakers: int | None = None,
        offset_s: float = 0.0,
        channel: int | None = None,
    ) -> DiarizationResult:
        """Diarize mono ``samples`` ``(frames,)``; turn times are shifted by ``offset_s``."""
        import torch

        if samples.ndim != 1:
            raise AudioShapeError(f"shared-channel diarization takes mono (frames,), got {samples.shape}")
        wave = to_16k(samples, sample_rate)
        if len(wave) < 16000:  # under a second: nothing to cluster
            return DiarizationResult((), (), np.zeros((0, 192), dtype=np.float32))
        bound = {"max_speakers": max(1, max_speakers)} if max_speakers else {}
        with self._lock:
            if self.options.torch_threads and torch.get_num_threads() != self.options.torch_threads:
                torch.set_num_threads(self.options.torch_threads)
            pipeline = self._get_pipeline()
            out = pipeline({"waveform": torch.from_numpy(wave)[None], "sample_rate": 16000}, **bound)
            result = _result(out, offset_s, channel)
            if self.options.refine_turns:
                from diarize.refine import refine

                turns, speakers, centroids = refine(result.turns, result.speakers, result.centroids, wave, offset_s)
                result = DiarizationResult(turns, speakers, centroids)
        return result


def _result(out: Any, offset_s: float, channel: int | None) -> DiarizationResult:
    annotation = out.speaker_diarization
    labels = tuple(str(label) for label in annotation.labels())
    centroids = np.asarray(out.speaker_embeddings, dtype=np.float32)
    if centroids.ndim != 2 or len(centroids) < len(labels):
        centroids = np.zeros((len(labels), 192), dtype=np.float32)
    turns = tuple(
        SpeakerTurn(float(seg.start) + offset_s, float(seg.end) + offset_s, str(label), channel)
        for seg, _, label in annotation.itertracks(yield_label=True)
    )
    return DiarizationResult(turns=turns, speakers=labels, centroids=centroids[: len(labels)])
