import contextlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from courtroom_api.app import create_app
from courtroom_api.config import get_settings


def test_cli_help_lists_serve() -> None:
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "serve" in out.stdout


def test_health_and_openapi(tmp_path) -> None:
    client = TestClient(create_app(get_settings(data_dir=tmp_path)))
    assert client.get("/api/health").json() == {"status": "ok"}
    assert client.get("/openapi.json").json()["info"]["title"] == "Smart Courtroom"


def test_transcribe_prompts_with_the_participants_names(tmp_path) -> None:
    from courtroom_api.cli.transcribe import _participant_names

    file = tmp_path / "participants.json"
    file.write_text(json.dumps({"occupants": [{"seat": "judge", "participant_id": 1, "name": "王审判长"}],
                                "voices": [{"participant_id": 2, "name": "张伟", "sample": "x.flac"}]},
                               ensure_ascii=False), encoding="utf-8")
    assert _participant_names(str(file)) == ["王审判长", "张伟"]
    assert _participant_names(None) == []
    file.write_text("{not json", encoding="utf-8")
    assert _participant_names(str(file)) == []  # attribution reads it again and reports the error


def test_commands_on_a_database_never_set_up_say_so(tmp_path) -> None:
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    sqlite3.connect(tmp_path / "courtroom.sqlite3").close()  # an empty database (a missing file: below)
    for command in (["audit", "verify"], ["users", "list"]):
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", *command], capture_output=True, text=True,
                             env=env)
        assert out.returncode == 2, out.stderr
        assert "run `courtroom db upgrade` first" in out.stderr and "Traceback" not in out.stderr


def test_a_setting_the_server_cannot_work_with_is_refused_naming_it(tmp_path) -> None:
    """A FLAC subtype the recorder does not know let a hearing start and record nothing; 0 s segments
    wrote 1600 files for 0.1 s of audio; a misspelt zone printed court records in UTC; a port that is not
    a number was a traceback; a language Whisper does not know failed every live decode; a compute type
    the CPU cannot run was reported at the first hearing as a damaged model. Each is one line naming the variable, before anything starts."""
    base = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for name, value in (("COURTROOM_CAPTURE__FLAC_SUBTYPE", "PCM_8"), ("COURTROOM_CAPTURE__SEGMENT_SECONDS", "0"),
                        ("COURTROOM_TIMEZONE", "Asia/Shanghia"), ("COURTROOM_PORT", "abc"),
                        ("COURTROOM_TRANSCRIBE__WORKERS", "0"), ("COURTROOM_TRANSCRIBE__MAX_CADENCE_S", "0.1"),
                        ("COURTROOM_TRANSCRIBE__LANGUAGE", "mandarin"), ("COURTROOM_TRANSCRIBE__COMPUTE_TYPE", "fp16")):
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "serve"], capture_output=True, text=True,
                             env={**base, name: value}, timeout=60)
        assert out.returncode == 2 and name in out.stderr and "Traceback" not in out.stderr, (name, out.stderr)
    assert not (tmp_path / "courtroom.sqlite3").exists()  # refused before anything was made


def test_serve_refuses_a_model_the_transcriber_cannot_have_before_starting(tmp_path) -> None:
    """An unknown model name, or a directory under __MODELS_DIR with an empty model.bin: the server started,
    answered each hearing's start with 200 and raised `transcription_failed` at once, and the hearing ran with
    no transcript. Now one line names the variable and says why, as `courtroom models list` does."""
    models = tmp_path / "models"
    (models / "court-large").mkdir(parents=True)
    (models / "court-large" / "model.bin").write_bytes(b"")
    env = {"COURTROOM_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
           "COURTROOM_TRANSCRIBE__MODELS_DIR": str(models)}
    cli = [sys.executable, "-m", "courtroom_api.cli"]
    assert subprocess.run([*cli, "db", "upgrade"], capture_output=True, env=env, timeout=60).returncode == 0
    for model, says in (("nosuchmodel", "unknown model 'nosuchmodel': known models are base, tiny.en, court-large"),
                        ("court-large", f"{models / 'court-large'} is not a CTranslate2 Whisper model directory "
                                        "(model.bin is empty, no config.json, no tokenizer.json, no vocabulary.txt)"),
                        (str(tmp_path / "nowhere"), "is not a CTranslate2 Whisper model directory")):
        out = subprocess.run([*cli, "serve", "--port", "0"], capture_output=True, text=True, timeout=60,
                             env={**env, "COURTROOM_TRANSCRIBE__MODEL": model})
        assert out.returncode == 2 and out.stderr.count("\n") == 1, (model, out.stderr)
        assert out.stderr.startswith("courtroom serve: COURTROOM_TRANSCRIBE__MODEL: ") and says in out.stderr, out.stderr
    assert not (tmp_path / "data" / "server.lock").exists()  # refused before anything started


def test_serve_says_what_is_wrong_with_the_database_before_starting(tmp_path) -> None:
    """A data directory never migrated, or a database file that is not one: the server's start-up failed
    with a traceback and "Application startup failed"; now one line says what to do."""
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    serve = [sys.executable, "-m", "courtroom_api.cli", "serve", "--port", "0"]
    sqlite3.connect(tmp_path / "courtroom.sqlite3").close()
    out = subprocess.run(serve, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and "not set up: run `courtroom db upgrade` first" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    (tmp_path / "courtroom.sqlite3").write_bytes(b"this is not a database" * 100)
    out = subprocess.run(serve, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and "cannot be opened" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_commands_on_a_file_that_is_not_a_database_say_so_as_serve_does(tmp_path) -> None:
    """A database URL naming a file that is not one: `serve` said so in one line, every other command
    ended in a traceback (`sqlalchemy.exc.DatabaseError: file is not a database`)."""
    (tmp_path / "x.sqlite3").write_text("hello\n")
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COURTROOM_NEW_PASSWORD": "long enough",
           "COURTROOM_DATABASE__URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    for command in (["serve", "--port", "0"], ["db", "current"], ["users", "list"],
                    ["users", "add", "clerk-9", "--role", "clerk"], ["statutes", "import", "--demo"], ["audit", "verify"]):
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", *command], capture_output=True, text=True,
                             env=env, timeout=60)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (command, out.stderr)
        assert out.stderr == (f"courtroom {command[0]}: the database sqlite:///{tmp_path / 'x.sqlite3'} cannot be "
                              "opened: file is not a database\n"), (command, out.stderr)


def test_transcribe_refuses_an_output_it_cannot_write_before_transcribing(tmp_path) -> None:
    from pathlib import Path

    speech = Path(__file__).resolve().parent / "fixtures" / "speech_en.flac"
    for option in ("-o", "--rttm"):
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(speech), option,
                              str(tmp_path / "no-such-dir" / "out")], capture_output=True, text=True, timeout=30,
                             env={"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert out.returncode == 2 and "no such directory" in out.stderr and "Traceback" not in out.stderr


def test_transcribe_refuses_a_directory_or_an_unwritable_place_as_output_first(tmp_path) -> None:
    """-o naming a folder, or a place nobody may write, is refused before anything else (it used to be
    found only when writing, after the whole decode); an existing file is left as it was."""
    from pathlib import Path

    speech = Path(__file__).resolve().parent / "fixtures" / "speech_en.flac"
    (tmp_path / "out").mkdir()
    kept = tmp_path / "out" / "kept.txt"
    kept.write_text("earlier transcript")
    for option, path, says in (("-o", tmp_path, "is a directory"), ("--rttm", tmp_path, "is a directory"),
                               ("-o", "/proc/transcript.json", "cannot write /proc/transcript.json: ")):
        # (a model that does not exist: the output must be refused before the model is even looked for)
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(speech), option, str(path),
                              "--model", str(tmp_path / "no-model")], capture_output=True, text=True, timeout=30,
                             env={"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert out.returncode == 2 and says in out.stderr and "no-model" not in out.stderr, out.stderr
        assert "Traceback" not in out.stderr
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(speech), "-o", str(kept),
                          "--model", str(tmp_path / "no-model")], capture_output=True, text=True, timeout=30,
                         env={"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2 and "no-model" in out.stderr  # a writable output: on to the model
    assert kept.read_text() == "earlier transcript" and sorted(p.name for p in kept.parent.iterdir()) == ["kept.txt"]


def test_serve_takes_its_lock_on_a_full_data_disk(tmp_path, tmpfs) -> None:
    """The server must start on a full disk (it files the recordings a full disk held back): writing its
    pid into server.lock failed with ENOSPC and the server died with a traceback before anything else."""
    data = tmp_path / "data"
    tmpfs(data, "1m")
    from courtroom_api.cli.serve import _hold_server_lock

    filler = data / "filler"
    with open(filler, "wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    lock = _hold_server_lock(data)
    assert lock is not None
    assert _hold_server_lock(data) is None  # and it is held
    lock.close()


def test_a_stereo_voice_sample_is_enrolled_from_both_sides(tmp_path) -> None:
    """A phone or lapel recorder's stereo sample with the voice on the right: the first channel alone was
    enrolled, silent, and the enrolment refused (found in review); both sides are heard now."""
    import numpy as np
    import soundfile as sf

    from courtroom_api.cli.transcribe import _participants

    speech, rate = sf.read(Path(__file__).parent / "fixtures" / "speech_en.flac", dtype="float32", always_2d=True)
    sf.write(tmp_path / "voice.wav", np.stack([np.zeros(len(speech), np.float32), speech[:, 0]], axis=1), rate)
    (tmp_path / "participants.json").write_text(json.dumps(
        {"voices": [{"participant_id": 3, "name": "张伟", "role": "plaintiff", "sample": "voice.wav"}]}))
    _, voices = _participants(str(tmp_path / "participants.json"))
    assert [(v.participant_id, v.name) for v in voices] == [(3, "张伟")]


def test_users_add_refuses_what_the_api_refuses_in_one_line(tmp_path) -> None:
    """`courtroom users add` took logins POST /api/users refuses ("", "wang wei " which the login page
    trims so it never signs in, full-width letters, 150 characters), and --side bogus was a traceback."""
    import os

    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COURTROOM_NEW_PASSWORD": "long enough",
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], capture_output=True, text=True,
                              env=env, timeout=60)

    assert cli("db", "upgrade").returncode == 0
    for login in ("", "wang wei ", "ｊｕｄｇｅ", "x" * 150):
        out = cli("users", "add", login, "--role", "judge")
        assert out.returncode == 2 and "a login is 1 to 100 characters" in out.stderr, (login, out.stderr)
        assert "Traceback" not in out.stderr
    out = cli("users", "add", "terminal-1", "--role", "terminal", "--courtroom", "1", "--side", "bogus")
    assert out.returncode == 2 and "invalid choice: 'bogus'" in out.stderr and "Traceback" not in out.stderr
    out = cli("users", "add", "clerk-1", "--role", "clerk", "--name", "two\nlines")
    assert out.returncode == 2 and out.stderr.startswith("--name: ") and "Traceback" not in out.stderr, out.stderr
    env["COURTROOM_NEW_PASSWORD"] = "short"
    out = cli("users", "add", "clerk-1", "--role", "clerk")
    assert out.returncode == 2 and "at least 8 characters" in out.stderr
    env["COURTROOM_NEW_PASSWORD"] = "long enough"
    assert cli("users", "add", "wang.wei", "--role", "judge").returncode == 0
    assert [line.split("\t")[1] for line in cli("users", "list").stdout.splitlines()] == ["wang.wei"]
    out = cli("users", "add", "Wang.Wei", "--role", "clerk")  # (a case twin: the login page reads it as wang.wei)
    assert out.returncode == 1 and "'wang.wei' (id 1) signs in with it" in out.stderr, out.stderr
    assert [line.split("\t")[1] for line in cli("users", "list").stdout.splitlines()] == ["wang.wei"]
    out = cli("users", "revoke-tokens", "WANG.WEI")
    assert out.returncode == 0 and "tokens of 'WANG.WEI'" in out.stdout, out.stderr


def test_transcribe_seats_keep_their_channels_past_an_empty_name() -> None:
    """`--seats judge,,clerk`: channel 1 has no seat and the clerk is channel 2 (empty names were dropped
    before numbering, so the clerk was given channel 1 and channel 2 went untranscribed)."""
    import argparse

    from courtroom_api.cli.transcribe import _seats

    seats = _seats(argparse.Namespace(profile=None, seats="judge,,clerk"), 3)
    assert [(s.channel, s.seat) for s in seats] == [(0, "judge"), (2, "clerk")]


def test_transcribe_refuses_a_participants_file_with_bad_times_before_transcribing(tmp_path) -> None:
    """An occupant `"from_s": null` went through to attribution, which failed with a TypeError traceback
    after the whole transcription. Each field is checked first, and the line names the occupant."""
    speech = Path(__file__).resolve().parent / "fixtures" / "speech_en.flac"
    for field, value in (("from_s", None), ("to_s", "the end"), ("participant_id", "5")):
        occupant = {"seat": "witness", "participant_id": 5, "name": "W", "role": "witness", field: value}
        (tmp_path / "p.json").write_text(json.dumps({"occupants": [{**occupant, field: 1}, occupant]}))
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(speech), "--participants",
                              str(tmp_path / "p.json"), "--model", str(tmp_path / "no-model")],
                             capture_output=True, text=True, timeout=60,
                             env={"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert out.stderr.startswith(f"courtroom transcribe: --participants {tmp_path / 'p.json'}: occupant 2: "
                                     f"{field} {json.dumps(value)} is not"), out.stderr


@pytest.mark.parametrize(("content", "says"), [
    ([{"seat": "judge", "participant_id": 1, "name": "Li", "role": "presiding_judge"}],
     'is not a JSON object ({"occupants": [...], "voices": [...]})'),
    ({"occupants": ["judge"]}, "occupant 1 is not a JSON object"),
    ({"occupants": [{"seat": "judge", "participant_id": 1, "name": "Li", "role": "presiding_judge", "from_s": 5,
                     "to_s": 2}]}, "occupant 1: to_s 2 is not after from_s 5"),
    ({"occupants": [{"seat": "judge", "participant_id": 1, "name": "Li", "role": "presiding_judge", "to_s": 0}]},
     "occupant 1: to_s 0 is not after from_s 0"),
])
def test_transcribe_refuses_a_participants_file_of_the_wrong_shape_in_one_line(tmp_path, content, says) -> None:
    """A bare list of occupants was an AttributeError traceback (exit 1); an occupant whose to_s is before
    their from_s was taken, and their seat's lines were credited to nobody without a word."""
    import os

    speech = Path(__file__).resolve().parent / "fixtures" / "speech_en.flac"
    parts = tmp_path / "p.json"
    parts.write_text(json.dumps(content))
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(speech), "--participants",
                          str(parts), "--model", str(tmp_path / "no-model")],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2, out.stderr
    assert out.stderr == f"courtroom transcribe: --participants {parts}: {says}\n"


def test_transcribe_refuses_an_occupant_on_a_seat_the_file_has_not(tmp_path) -> None:
    """`"seat": "Judge"` (a typo for judge) was taken without a word, and no line got its participant.
    An occupant's seat must be one of --profile/--seats, named in the one-line refusal; a file without
    them has no seats to occupy."""
    import os

    fixtures = Path(__file__).resolve().parent / "fixtures"
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    parts = tmp_path / "p.json"
    cases = ((fixtures / "api" / "demo_hearing_22s.flac", ["--seats", "judge,clerk,plaintiff,defendant"],
              'occupant 2: seat "Judge" is not a seat of --seats (judge, clerk, plaintiff, defendant)\n'),
             (fixtures / "api" / "demo_hearing_22s.flac", [],
              'occupant 1: seat "judge" is not a seat of {file}: it has seats only with --profile or --seats\n'),
             (fixtures / "speech_en.flac", [],
              'occupant 1: seat "judge" is not a seat of {file}: it has seats only with --profile or --seats\n'))
    for file, seats, says in cases:
        occupants = [{"seat": "judge", "participant_id": 1, "name": "王审判长", "role": "presiding_judge"},
                     {"seat": "Judge", "participant_id": 2, "name": "李娜", "role": "defendant"}]
        parts.write_text(json.dumps({"occupants": occupants}, ensure_ascii=False), encoding="utf-8")
        # (a model that does not exist: the file must be refused before the model is looked for)
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(file), *seats,
                              "--participants", str(parts), "--model", str(tmp_path / "no-model")],
                             capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 2, out.stderr
        assert out.stderr == f"courtroom transcribe: --participants {parts}: {says.format(file=file)}", out.stderr


def test_commands_on_the_dossier_refuse_an_older_schema_as_serve_does(tmp_path) -> None:
    """`users add`, `statutes import` and `audit verify` ran on a database at an older schema revision
    (audit verify said "OK"), where serve refuses it in one line: they refuse it the same way now."""
    import os

    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COURTROOM_NEW_PASSWORD": "long enough",
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    assert cli("db", "upgrade").returncode == 0
    assert cli("db", "downgrade", "0004_sealed_ranges").returncode == 0
    for args in (("users", "list"), ("users", "add", "clerk-old", "--role", "clerk"), ("audit", "verify"),
                 ("statutes", "import", "--demo")):
        out = cli(*args)
        assert out.returncode == 2 and "at schema revision 0004_sealed_ranges" in out.stderr, (args, out.stderr)
        assert "run `courtroom db upgrade` first" in out.stderr and "Traceback" not in out.stderr
    assert cli("db", "upgrade").returncode == 0
    assert cli("users", "add", "clerk-new", "--role", "clerk").returncode == 0


REPO = Path(__file__).resolve().parents[1]


def _cli_in(cwd: Path, env: dict[str, str]):  # type: ignore[no-untyped-def]
    """`courtroom` run in ``cwd`` with ``env`` only (this checkout's code, whatever the cwd)."""
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], capture_output=True, text=True,
                              cwd=cwd, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), **env}, timeout=120)
    return cli


def test_commands_on_a_database_newer_than_this_code_say_so_not_to_upgrade(tmp_path) -> None:
    """A database at a revision this code has no migration of (a newer code's, another application's
    Alembic database): serve and the dossier commands said "this server needs 0006_…: run `courtroom db
    upgrade` first", and the upgrade then failed with "Can't locate revision identified by …"."""
    cli = _cli_in(tmp_path, {"COURTROOM_DATA_DIR": str(tmp_path), "COURTROOM_NEW_PASSWORD": "long enough"})
    assert cli("db", "upgrade").returncode == 0
    newer = tmp_path / "courtroom.sqlite3"
    with sqlite3.connect(newer) as db:
        db.execute("update alembic_version set version_num = '0007_future_thing'")
    other = tmp_path / "other.sqlite3"  # another application's
    with sqlite3.connect(other) as db:
        db.execute("create table alembic_version (version_num varchar(32) primary key)")
        db.execute("insert into alembic_version values ('ae1027a6acf')")
    for file, revision in ((newer, "0007_future_thing"), (other, "ae1027a6acf")):
        url = f"sqlite:///{file}"
        for args in (("serve", "--port", "0"), ("users", "list"), ("users", "add", "clerk-9", "--role", "clerk"),
                     ("audit", "verify"), ("db", "upgrade"), ("db", "downgrade", "base")):
            out = _cli_in(tmp_path, {"COURTROOM_DATA_DIR": str(tmp_path), "COURTROOM_DATABASE__URL": url,
                                     "COURTROOM_NEW_PASSWORD": "long enough"})(*args)
            where = "" if args[0] == "db" else f"{url} "
            assert out.returncode == 2 and out.stderr == (
                f"courtroom {args[0]}{' ' + args[1] if args[0] == 'db' else ''}: the database {where}is at schema "
                f"revision {revision}, which this code does not know: the database is newer than this code (or "
                "not a courtroom database): upgrade the code, or point COURTROOM_DATABASE__URL at the right "
                "database\n"), (args, out.stderr)
        out = _cli_in(tmp_path, {"COURTROOM_DATABASE__URL": url})("db", "current")
        assert out.returncode == 0 and out.stdout.startswith(f"{revision} (not a revision of this code: "), out.stdout
    with sqlite3.connect(newer) as db:  # nothing was changed
        assert db.execute("select version_num from alembic_version").fetchall() == [("0007_future_thing",)]
        assert db.execute("select count(*) from users").fetchone() == (0,)


def test_commands_find_no_database_file_and_make_none(tmp_path) -> None:
    """`courtroom serve` in a directory without the court's data (the default database is
    ./data/courtroom.sqlite3 of wherever it runs) made an empty database there and said "not set up: run
    `courtroom db upgrade` first": doing so set up an empty court beside the real one. It names the file
    it did not find now, and makes nothing; `db upgrade` (as `make run` runs first) still makes it."""
    cli = _cli_in(tmp_path, {"COURTROOM_NEW_PASSWORD": "long enough"})
    file = tmp_path.resolve() / "data" / "courtroom.sqlite3"
    for args in (("serve", "--port", "0"), ("users", "list"), ("audit", "verify"), ("statutes", "import", "--demo")):
        out = cli(*args)
        assert out.returncode == 2 and out.stderr == (
            f"courtroom {args[0]}: no database file at {file}: point COURTROOM_DATA_DIR (or COURTROOM_DATABASE__URL) "
            "at the court's database, or run `courtroom db upgrade` to make a new, empty one there\n"), out.stderr
    for args in (("db", "current"), ("db", "downgrade", "base")):
        out = cli(*args)
        assert out.returncode == 2 and out.stderr == f"courtroom {' '.join(args[:2])}: no database file at {file}\n"
    assert list(tmp_path.iterdir()) == []  # not even ./data
    assert cli("db", "upgrade").returncode == 0 and file.is_file()
    assert cli("users", "list").returncode == 0


def test_transcribe_and_devices_find_the_courts_own_profiles(tmp_path) -> None:
    """room5.toml in COURTROOM_PROFILES_DIR, a profile the API accepts for a courtroom: `transcribe --profile
    room5` and `devices --profile room5` said "not a bundled profile ... and no such file", and `devices`
    listed the bundled three only."""
    import os

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (REPO / "hardware" / "profiles" / "civil-4ch.toml").read_text(encoding="utf-8")
    (profiles / "room5.toml").write_text(text.replace('room_id = "civil-4ch"', 'room_id = "room5"'), encoding="utf-8")
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COURTROOM_PROFILES_DIR": str(profiles),
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", *args], capture_output=True, text=True,
                              env=env, timeout=60)

    out = cli("devices")
    assert out.returncode == 0 and "profile room5: 4 channels" in out.stdout, out.stdout + out.stderr
    out = cli("devices", "--profile", "room5")
    assert out.returncode == 0 and "profile room5: 4 channels" in out.stdout, out.stdout + out.stderr
    # The profile is read (a mono file is refused for its 4 seats), before the model is looked for.
    speech = REPO / "tests" / "fixtures" / "speech_en.flac"
    out = cli("transcribe", str(speech), "--profile", "room5", "--model", str(tmp_path / "no-model"))
    assert out.returncode == 2 and out.stderr.startswith("courtroom transcribe: profile room5 needs 4 channels"), out.stderr
    out = cli("transcribe", str(speech), "--profile", str(profiles / "room5.toml"), "--model", str(tmp_path / "no-model"))
    assert "needs 4 channels" in out.stderr, out.stderr  # a TOML path still does


def test_devices_reports_a_broken_profile_and_checks_the_others(tmp_path) -> None:
    """One malformed TOML in COURTROOM_PROFILES_DIR: `devices` printed its error alone, exit 2, and listed
    no device and no other profile."""
    import os

    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "broken.toml").write_text('name = "broken"\n[[channels]]\nchannel = 0\n', encoding="utf-8")
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "COURTROOM_PROFILES_DIR": str(profiles),
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "devices"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode != 0, out.stdout + out.stderr  # a broken profile is still a failure
    lines = out.stdout.splitlines()
    assert [line for line in lines if line.startswith("error:")] == [
        f"error: {profiles / 'broken.toml'}: field 'room_id': is required"], out.stdout
    for name in ("demo", "civil-4ch", "criminal-8ch"):  # the bundled ones are checked all the same
        assert any(line.startswith(f"profile {name}: ") for line in lines), out.stdout
    # the devices are listed (here: none, or each with the profiles it fits)
    assert "no audio input devices found" in lines or any("fits:" in line for line in lines), out.stdout


def test_transcribe_refuses_seats_a_profile_may_not_have(tmp_path) -> None:
    """`--seats plaintiff,plaintiff` labelled both channels plaintiff and credited every line of both to
    the plaintiff's occupant, rc 0, where a profile with the same mistake is refused. --seats are checked as
    a profile's seats are (a decomposed "témoin" is "témoin"; "mixdown" is the listening mix's), before the
    model is looked for."""
    import os

    four = REPO / "tests" / "fixtures" / "api" / "demo_hearing_22s.flac"
    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    for seats, says in (("plaintiff,plaintiff", "--seats: seat 'plaintiff' is already on channel 0"),
                        ("judge,témoin,te\u0301moin ", "--seats: seat 'témoin' is already on channel 1"),
                        ("judge, mixdown", "--seats: seat 'mixdown': 'mixdown' is reserved")):
        out = subprocess.run([sys.executable, "-m", "courtroom_api.cli", "transcribe", str(four), "--seats", seats,
                              "--model", str(tmp_path / "no-model")], capture_output=True, text=True, timeout=60,
                             env=env)
        assert out.returncode == 2 and out.stderr.startswith(f"courtroom transcribe: {says}"), (seats, out.stderr)


def test_transcribe_uses_the_courts_languages_and_seat_gate(tmp_path, monkeypatch) -> None:
    """COURTROOM_TRANSCRIBE__ACTIVITY_DBFS, __BLEED_MARGIN_DB and __LANGUAGES were honoured live only: a quiet
    microphone (peak -50 dBFS) the live gate hears at ACTIVITY_DBFS=-80 gave `courtroom transcribe` an empty
    transcript, and LANGUAGES=["zh"] still detected English."""
    import numpy as np
    import soundfile as sf

    import transcribe.batch
    from courtroom_api.cli import main

    speech, rate = sf.read(REPO / "tests" / "fixtures" / "speech_en.flac", dtype="float32")
    quiet = speech * (10 ** (-50 / 20) / np.abs(speech).max())
    sf.write(tmp_path / "quiet.wav", np.stack([quiet, np.zeros_like(quiet)], axis=1), rate)
    received = []
    real = transcribe.batch.transcribe_recording

    def spy(model, audio, seats, options):  # type: ignore[no-untyped-def]
        received.append(options)
        return real(model, audio, seats, options)

    monkeypatch.setattr(transcribe.batch, "transcribe_recording", spy)
    for name, value in (("DATA_DIR", str(tmp_path)), ("TRANSCRIBE__ACTIVITY_DBFS", "-80"),
                        ("TRANSCRIBE__BLEED_MARGIN_DB", "12"), ("TRANSCRIBE__LANGUAGES", '["en", "fr"]')):
        monkeypatch.setenv(f"COURTROOM_{name}", value)
    out = tmp_path / "out.txt"
    assert main(["transcribe", str(tmp_path / "quiet.wav"), "--seats", "judge,clerk", "--model", "tiny.en",
                 "--no-diarize", "--format", "txt", "-o", str(out)]) == 0
    options = received[0]
    assert (options.gate.activity_dbfs, options.gate.bleed_margin_db, options.languages) == (-80, 12, ("en", "fr"))
    assert "judge" in out.read_text(encoding="utf-8"), out.read_text(encoding="utf-8")  # heard, as live


def test_an_english_only_model_is_refused_a_language_it_cannot_transcribe(tmp_path) -> None:
    """`transcribe zh.flac --model tiny.en --language zh` printed English nonsense marked "en", rc 0, and
    `serve` with MODEL=tiny.en and LANGUAGE=zh transcribed every Mandarin hearing as English. The model's
    languages must cover --language, __LANGUAGE, or (detecting) one of __LANGUAGES; one line says which."""
    import os

    env = {"COURTROOM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
           **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {})}
    cli = [sys.executable, "-m", "courtroom_api.cli"]
    speech = REPO / "tests" / "fixtures" / "speech_zh.flac"
    for args, settings, says in (
            (["--language", "zh"], {}, "--language: zh is not a language of model tiny.en (it transcribes en only)"),
            ([], {"COURTROOM_TRANSCRIBE__LANGUAGE": "zh"}, "COURTROOM_TRANSCRIBE__LANGUAGE: zh is not a language"),
            ([], {"COURTROOM_TRANSCRIBE__LANGUAGES": '["zh"]'}, "COURTROOM_TRANSCRIBE__LANGUAGES: none of zh is")):
        out = subprocess.run([*cli, "transcribe", str(speech), "--model", "tiny.en", "--no-diarize", *args],
                             capture_output=True, text=True, timeout=60, env={**env, **settings})
        assert out.returncode == 2 and out.stderr.startswith(f"courtroom transcribe: {says}"), out.stderr
        assert out.stdout == "" and out.stderr.count("\n") == 1
    for settings, says in (({"COURTROOM_TRANSCRIBE__LANGUAGE": "zh"}, "COURTROOM_TRANSCRIBE__LANGUAGE: zh is not"),
                           ({"COURTROOM_TRANSCRIBE__LANGUAGES": '["zh"]'}, "COURTROOM_TRANSCRIBE__LANGUAGES: none of")):
        out = subprocess.run([*cli, "serve", "--port", "0"], capture_output=True, text=True, timeout=60,
                             env={**env, "COURTROOM_TRANSCRIBE__MODEL": "tiny.en", **settings})
        assert out.returncode == 2 and out.stderr.startswith(f"courtroom serve: {says}"), out.stderr
    assert not (tmp_path / "server.lock").exists()  # refused before anything started
