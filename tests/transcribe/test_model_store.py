import hashlib
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from transcribe.errors import ComputeTypeError, ModelIntegrityError, ModelNotFoundError
from transcribe.model_store import BASE_SHA256, BASE_SIZE, MODEL_FILES, ModelStore, is_model_dir, load_model


def test_base_is_assembled_and_verified(whisper_base, whisper_model_store) -> None:
    path = whisper_model_store.resolve("base")
    assert is_model_dir(path)
    assert (path / "model.bin").stat().st_size == BASE_SIZE
    assert (path / ".verified").read_text().split() == [str(BASE_SIZE), BASE_SHA256]
    assert whisper_model_store.resolve(None) == path  # the configured default


def test_pinned_hash_is_the_real_one(whisper_model_store) -> None:
    digest = hashlib.sha256((whisper_model_store.resolve("base") / "model.bin").read_bytes()).hexdigest()
    assert digest == BASE_SHA256


def test_tiny_en_and_local_directories(tmp_path: Path, whisper_model_store) -> None:
    tiny = whisper_model_store.resolve("tiny.en")
    assert is_model_dir(tiny)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "court-large").symlink_to(tiny, target_is_directory=True)
    store = ModelStore(tmp_path / "cache", models_dir)
    assert store.resolve("court-large") == models_dir / "court-large"
    assert store.resolve(str(tiny)) == tiny  # any CTranslate2 directory by path
    listed = {m.name: m for m in store.list_models()}
    assert listed["tiny.en"].languages == "en" and listed["tiny.en"].status == "ready"
    assert listed["court-large"].languages == "en" and listed["court-large"].size_bytes > 70_000_000
    assert listed["base"].languages == "multilingual"


def test_unknown_names_and_bad_paths_are_clear_errors(tmp_path: Path, whisper_model_store) -> None:
    with pytest.raises(ModelNotFoundError, match="unknown model 'large-v9'.*base.*tiny.en"):
        whisper_model_store.resolve("large-v9")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="not a CTranslate2 Whisper model directory"):
        whisper_model_store.resolve(str(tmp_path / "empty"))
    with pytest.raises(ModelNotFoundError):
        whisper_model_store.resolve(str(tmp_path / "nowhere" / "model"))


def test_a_model_s_problem_is_found_without_assembling_or_loading_it(tmp_path: Path) -> None:
    """What `courtroom serve` checks before it starts: the reason resolve would give, found cheaply."""
    store = ModelStore(tmp_path / "cache", tmp_path / "models")
    assert store.problem() is None and store.problem("tiny.en") is None
    assert not (tmp_path / "cache").exists()  # base is assembled at the first hearing, not by the check
    assert store.problem("large-v9").startswith("unknown model 'large-v9': known models are base, tiny.en")
    (tmp_path / "models" / "half").mkdir(parents=True)
    (tmp_path / "models" / "half" / "model.bin").write_bytes(b"")
    assert "(model.bin is empty, no config.json" in store.problem("half")
    with pytest.raises(ModelNotFoundError, match="model.bin is empty"):
        store.resolve("half")


def test_models_list_command(tmp_path: Path) -> None:
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "models", "list"], capture_output=True,
                         text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:4] == ["NAME", "LANGUAGES", "SIZE", "STATUS"]
    base = next(line for line in lines if line.startswith("base"))
    assert "multilingual" in base and "145 MB" in base and str(tmp_path) in base
    assert any(line.startswith("tiny.en") and " en " in line for line in lines)


def _broken_copies(base: Path, models_dir: Path) -> dict[str, str]:
    """Copies of base under ``models_dir``, each broken in one way: name → what the error must say."""
    broken = {"no-tokenizer": "no tokenizer.json", "no-vocabulary": "no vocabulary.txt",
              "empty-bin": "model.bin is empty", "truncated": "model.bin is truncated",
              "half-tokenizer": "tokenizer.json is not valid JSON", "half-config": "config.json is not valid JSON",
              "half-vocabulary": "vocabulary.txt is not valid UTF-8"}
    for name in broken:
        (models_dir / name).mkdir(parents=True)
        for f in MODEL_FILES:
            if (name, f) not in {("no-tokenizer", "tokenizer.json"), ("no-vocabulary", "vocabulary.txt")}:
                (models_dir / name / f).symlink_to(base / f)
    for name, f in (("half-tokenizer", "tokenizer.json"), ("half-config", "config.json")):  # a copy cut short
        (models_dir / name / f).unlink()
        (models_dir / name / f).write_bytes((base / f).read_bytes()[:1000])
    vocabulary = (base / "vocabulary.txt").read_bytes()
    (models_dir / "half-vocabulary" / "vocabulary.txt").unlink()  # cut inside a character: `models list` crashed
    (models_dir / "half-vocabulary" / "vocabulary.txt").write_bytes(vocabulary[: vocabulary.index("Ġ".encode()) + 1])
    (models_dir / "empty-bin" / "model.bin").unlink()
    (models_dir / "empty-bin" / "model.bin").touch()
    (models_dir / "truncated" / "model.bin").unlink()
    (models_dir / "truncated" / "model.bin").write_bytes((base / "model.bin").read_bytes()[:1_000_000])
    broken.update(_broken_vocabularies(base, models_dir))
    return broken


def _tokens(model: Path) -> list[str]:
    return (model / "vocabulary.txt").read_text(encoding="utf-8").splitlines()


def _copy_without_vocabulary(model: Path, copy: Path) -> Path:
    copy.mkdir(parents=True)
    for f in MODEL_FILES:
        if f != "vocabulary.txt":
            (copy / f).symlink_to(model / f)
    return copy


def _broken_vocabularies(base: Path, models_dir: Path) -> dict[str, str]:
    """Copies of base whose vocabulary loads (or would) but is not the model's: it loaded, then a hearing's
    first decode failed ("<|startoftranscript|> token was not found") or CTranslate2 raised a JSON error."""
    tokens = _tokens(base)
    made = {"half-vocabulary-json": ("vocabulary.json", json.dumps(tokens)[:5000],
                                     "vocabulary.json is not valid JSON"),
            "vocabulary-json-object": ("vocabulary.json", json.dumps({t: i for i, t in enumerate(tokens)}),
                                       "vocabulary.json is not a JSON list of strings"),
            "vocabulary-json-numbers": ("vocabulary.json", json.dumps(list(range(len(tokens)))),
                                        "vocabulary.json is not a JSON list of strings"),
            "short-vocabulary-json": ("vocabulary.json", json.dumps(tokens[:40_000]),
                                      "vocabulary.json has 40000 entries, the model needs 51865"),
            "short-vocabulary": ("vocabulary.txt", "\n".join(tokens[:40_000]) + "\n",
                                 "vocabulary.txt has 40000 entries, the model needs 51865"),
            "no-timestamps-vocabulary": ("vocabulary.txt", "\n".join(tokens[:51_000]) + "\n",
                                         "vocabulary.txt has 51000 entries, the model needs 51865")}
    for name, (file, text, _) in made.items():
        (_copy_without_vocabulary(base, models_dir / name) / file).write_text(text, encoding="utf-8")
    # CTranslate2 reads vocabulary.json before vocabulary.txt: a whole .txt beside it does not save it
    (_copy_without_vocabulary(base, models_dir / "bad-json-beside-txt") / "vocabulary.json").write_text("[\"<|endo")
    (models_dir / "bad-json-beside-txt" / "vocabulary.txt").symlink_to(base / "vocabulary.txt")
    return {name: says for name, (_, _, says) in made.items()} | {"bad-json-beside-txt": "vocabulary.json is not valid JSON"}


def test_incomplete_or_damaged_model_directories_are_clear_errors(tmp_path: Path, whisper_model_store) -> None:
    """A model directory without its tokenizer (faster-whisper then went to the hub), its vocabulary, or
    with an empty or truncated model.bin, a half-copied tokenizer.json, config.json or vocabulary.json, a
    vocabulary.json that is no list of strings, a vocabulary with fewer entries than the model's: one
    clear error, not a traceback, and not listed as ready."""
    base = whisper_model_store.resolve("base")
    broken = _broken_copies(base, tmp_path / "models")
    store = ModelStore(tmp_path / "cache", tmp_path / "models")
    listed = {m.name: m.status for m in store.list_models()}
    for name, says in broken.items():  # a truncated model.bin was listed as ready: only loading it told
        assert listed[name].startswith(f"incomplete: {says}")
        with pytest.raises(ModelNotFoundError, match=f"not a CTranslate2 Whisper model directory \\({says}"):
            store.resolve(name)
        with pytest.raises(ModelNotFoundError, match=says):
            store.resolve(str(tmp_path / "models" / name))
    with pytest.raises(ModelNotFoundError, match="model.bin is truncated"):
        load_model(store, "truncated")
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    speech = Path(__file__).resolve().parents[1] / "fixtures" / "speech_en.flac"
    for name, says in broken.items():
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(speech), "--no-diarize",
                              "--model", str(tmp_path / "models" / name)], capture_output=True, text=True, env=env,
                             cwd=Path(__file__).resolve().parents[2], timeout=120)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and says in out.stderr, out.stderr


def test_a_folder_named_like_a_model_in_the_working_directory_is_not_the_model(tmp_path: Path, whisper_model_store,
                                                                              monkeypatch) -> None:
    """A clerk who runs `courtroom transcribe` in a folder holding a folder "base" (or a file "tiny.en")
    still gets the bundled model of that name; "./base" still means the folder."""
    base = whisper_model_store.resolve("base")
    (tmp_path / "base").mkdir()
    (tmp_path / "tiny.en").write_text("notes")
    monkeypatch.chdir(tmp_path)
    assert whisper_model_store.resolve("base") == base and whisper_model_store.resolve(None) == base
    assert is_model_dir(whisper_model_store.resolve("tiny.en"))
    with pytest.raises(ModelNotFoundError, match="not a CTranslate2 Whisper model directory"):
        whisper_model_store.resolve("./base")
    (tmp_path / "court-large").symlink_to(base, target_is_directory=True)
    assert whisper_model_store.resolve("court-large") == Path("court-large")  # a model directory by bare name


def test_a_compute_type_the_cpu_cannot_run_is_a_setting_to_change_not_a_damaged_model(whisper_model_store) -> None:
    """float16 on a CPU (or a typo, fp16) was reported as a corrupt model: "copy it again from its source"."""
    for compute_type in ("float16", "fp16"):
        with pytest.raises(ComputeTypeError, match=f"compute type '{compute_type}' is not supported on this CPU") as err:
            load_model(whisper_model_store, "tiny.en", compute_type=compute_type)
        assert "copy it again" not in str(err.value)
    assert load_model(whisper_model_store, "tiny.en", cpu_threads=1, compute_type="auto").model.device == "cpu"


def test_a_tokenizer_the_loader_cannot_read_is_a_damaged_model_not_a_traceback(tmp_path: Path,
                                                                               whisper_model_store) -> None:
    """The tokenizers library raises a bare Exception, which load_model let through as a traceback."""
    tiny = whisper_model_store.resolve("tiny.en")
    copy = tmp_path / "models" / "odd-tokenizer"
    copy.mkdir(parents=True)
    for f in MODEL_FILES:
        (copy / f).symlink_to(tiny / f)
    (copy / "tokenizer.json").unlink()
    (copy / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "NoSuchModel"}}')
    with pytest.raises(ModelIntegrityError, match="odd-tokenizer cannot be loaded .*copy it again"):
        load_model(ModelStore(tmp_path / "cache", tmp_path / "models"), "odd-tokenizer", cpu_threads=1)


def test_the_bundled_models_and_whole_copies_list_ready_with_either_vocabulary_file(tmp_path: Path,
                                                                                    whisper_model_store) -> None:
    """The vocabulary checks must not turn a whole model away: base and tiny.en, and copies of them whose
    vocabulary is a vocabulary.json (as newer CTranslate2 converters write it), list ready in their language."""
    base, tiny = whisper_model_store.resolve("base"), whisper_model_store.resolve("tiny.en")
    models_dir = tmp_path / "models"
    for name, model in (("base-json", base), ("tiny-json", tiny)):
        copy = _copy_without_vocabulary(model, models_dir / name)
        (copy / "vocabulary.json").write_text(json.dumps(_tokens(model)), encoding="utf-8")
    for name, model in (("base-copy", base), ("tiny-copy", tiny)):
        (models_dir / name).symlink_to(model, target_is_directory=True)
    # A leftover short vocabulary.txt beside a whole vocabulary.json: CTranslate2 reads the .json only, yet
    # the model was listed incomplete and `courtroom serve` refused to start with it.
    leftover = _copy_without_vocabulary(tiny, models_dir / "tiny-json-leftover-txt")
    (leftover / "vocabulary.json").write_text(json.dumps(_tokens(tiny)), encoding="utf-8")
    (leftover / "vocabulary.txt").write_text("\n".join(_tokens(tiny)[:-1]) + "\n", encoding="utf-8")
    store = ModelStore(whisper_model_store.cache_dir.parent, models_dir)
    listed = {m.name: (m.status, m.languages) for m in store.list_models()}
    assert listed == {"base": ("ready", "multilingual"), "tiny.en": ("ready", "en"),
                      "base-copy": ("ready", "multilingual"), "base-json": ("ready", "multilingual"),
                      "tiny-copy": ("ready", "en"), "tiny-json": ("ready", "en"), "tiny-json-leftover-txt": ("ready", "en")}
    assert store.problem("tiny-json-leftover-txt") is None  # what `courtroom serve` asks before it starts
    assert load_model(store, "tiny-json", cpu_threads=1).model.is_multilingual is False
    speech = Path(__file__).resolve().parents[1] / "fixtures" / "speech_en.flac"
    said, _ = load_model(store, "tiny-json-leftover-txt", cpu_threads=1).transcribe(str(speech), beam_size=1)
    assert "".join(s.text for s in said).strip()  # it decodes: the .json is the vocabulary it uses


def test_a_short_vocabulary_is_found_even_where_model_bin_does_not_say_the_model_s_size(tmp_path: Path,
                                                                                      whisper_model_store) -> None:
    """A model.bin of a binary version the store does not walk: the tokenizer's token ids are the floor."""
    tiny = whisper_model_store.resolve("tiny.en")
    copy = _copy_without_vocabulary(tiny, tmp_path / "models" / "future")
    (copy / "model.bin").unlink()
    (copy / "model.bin").write_bytes(struct.pack("<I", 99) + bytes(1000))
    (copy / "vocabulary.txt").write_text("\n".join(_tokens(tiny)[:50_000]), encoding="utf-8")
    listed = {m.name: m.status for m in ModelStore(tmp_path / "cache", tmp_path / "models").list_models()}
    assert listed["future"] == "incomplete: vocabulary.txt has 50000 entries, the model needs 50363"
    (copy / "vocabulary.txt").write_text("\n".join(_tokens(tiny)), encoding="utf-8")
    listed = {m.name: m.status for m in ModelStore(tmp_path / "cache", tmp_path / "models").list_models()}
    assert listed["future"] == "ready"  # left for the loader to judge, as before
