import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from models import (
    Base,
    Case,
    Hearing,
    Participant,
    ParticipantRole,
    RevokedToken,
    SealedRange,
    SegmentRevision,
    Side,
    TranscriptSegment,
    User,
    UserRole,
)
from models.db import current_revision, downgrade, include_object, make_engine, session_factory, upgrade
from models.passwords import hash_password, verify_password

REPO = Path(__file__).resolve().parents[2]
HEAD = "0007_server_lease"


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_schema_and_search_index_then_downgrade_removes_it(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == HEAD
    tables = _tables(empty_db_url)
    assert set(Base.metadata.tables) <= tables
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert {"segment_fts", "segment_grams_fts", "statute_fts"} <= tables
            triggers = conn.execute(text("select name from sqlite_master where type='trigger'")).scalars()
            assert {"segment_fts_ai", "segment_fts_ad", "segment_fts_au"} <= set(triggers)
        else:
            rows = conn.execute(text("select indexname, indexdef from pg_indexes")).all()
            indexes = {name: ddl for name, ddl in rows}
            # role is in both GIN indexes (a term plus a role is one scan); BRIN for recency windows
            assert "(text gin_trgm_ops, role)" in indexes["ix_transcript_segments_text_trgm"]
            assert "(search_tsv, role)" in indexes["ix_transcript_segments_grams_tsv"]
            assert "USING brin (id)" in indexes["ix_transcript_segments_id_brin"]
    engine.dispose()

    downgrade(empty_db_url, "base")
    assert current_revision(empty_db_url) is None
    assert _tables(empty_db_url) <= {"alembic_version"}
    upgrade(empty_db_url)  # and up again on the same database
    assert current_revision(empty_db_url) == HEAD


def test_token_revocation_migration_keeps_users_and_their_grants(empty_db_url: str) -> None:
    """0002 adds a column to ``users``; neither way may lose users or what references them."""
    upgrade(empty_db_url, "0001_initial")
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("insert into users (login, display_name, password_hash, role, is_active, created_at) "
                          "values ('judge1', '', 'x', 'judge', true, current_timestamp)"))
        conn.execute(text("insert into cases (case_number, title, cause_of_action, procedure, status, "
                          "created_at, updated_at) values ('c1', '', '', 'ordinary', 'filed', "
                          "current_timestamp, current_timestamp)"))
        conn.execute(text("insert into case_access (case_id, user_id, level, granted_at) "
                          "select c.id, u.id, 'read', current_timestamp from cases c, users u"))
    engine.dispose()

    def rows() -> tuple[list[str], int]:
        eng = make_engine(empty_db_url)
        with eng.connect() as conn:
            logins = list(conn.execute(text("select login from users")).scalars())
            grants = conn.execute(text("select count(*) from case_access")).scalar_one()
        eng.dispose()
        return logins, grants

    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == HEAD and rows() == (["judge1"], 1)
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("select tokens_valid_after from users")).scalar() is None
        assert conn.execute(text("select count(*) from revoked_tokens")).scalar_one() == 0
    engine.dispose()
    downgrade(empty_db_url, "0001_initial")
    assert current_revision(empty_db_url) == "0001_initial" and rows() == (["judge1"], 1)
    assert "revoked_tokens" not in _tables(empty_db_url)
    engine = make_engine(empty_db_url)
    assert "tokens_valid_after" not in {c["name"] for c in inspect(engine).get_columns("users")}
    engine.dispose()


def test_segment_revision_migration_counts_earlier_corrections(empty_db_url: str) -> None:
    """0003 gives each segment the number of its corrections, so a clerk's console that read a line
    before the upgrade and one that read it after agree on which text a correction replaces."""
    upgrade(empty_db_url, "0002_token_revocation")
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("insert into cases (case_number, title, cause_of_action, procedure, status, "
                          "created_at, updated_at) values ('c1', '', '', 'ordinary', 'filed', "
                          "current_timestamp, current_timestamp)"))
        conn.execute(text("insert into hearings (case_id, title, status, created_at) "
                          "select id, '', 'ended', current_timestamp from cases"))
        for n, words in enumerate(("原告", "被告", "证据")):
            conn.execute(text("insert into transcript_segments (hearing_id, seq, start_s, end_s, text, words, "
                              "confidence, engine, model, status, sealed, search_grams, created_at, updated_at) "
                              "select id, :n, :n, :n + 1.0, :t, '[]', 0.9, '', '', 'draft', false, '', "
                              "current_timestamp, current_timestamp from hearings"), {"n": n, "t": words})
        for seq, times in ((0, 2), (2, 1)):
            for i in range(times):
                conn.execute(text("insert into segment_revisions (segment_id, before_text, after_text, reason, "
                                  "created_at) select id, :b, :a, 'r', current_timestamp from transcript_segments "
                                  "where seq = :seq"), {"seq": seq, "b": f"v{i}", "a": f"v{i + 1}"})
    engine.dispose()

    def revisions() -> list[tuple[int, int]]:
        eng = make_engine(empty_db_url)
        with eng.connect() as conn:
            out = [tuple(r) for r in conn.execute(text("select seq, revision from transcript_segments order by seq"))]
        eng.dispose()
        return out  # type: ignore[return-value]

    upgrade(empty_db_url)
    assert revisions() == [(0, 2), (1, 0), (2, 1)]
    downgrade(empty_db_url, "0002_token_revocation")
    engine = make_engine(empty_db_url)
    assert "revision" not in {c["name"] for c in inspect(engine).get_columns("transcript_segments")}
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from transcript_segments")).scalar_one() == 3
        assert conn.execute(text("select count(*) from segment_revisions")).scalar_one() == 3
    engine.dispose()


def test_sealed_ranges_migration_upgrades_a_database_of_the_previous_head(empty_db_url: str) -> None:
    """0004 adds ``sealed_ranges`` to a working dossier: its hearings, lines and their seals are kept, and
    a range seal can be stored at once; down again, only the table goes."""
    upgrade(empty_db_url, "0003_segment_revision")
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text("insert into users (login, display_name, password_hash, role, is_active, created_at) "
                          "values ('clerk1', '', 'x', 'clerk', true, current_timestamp)"))
        conn.execute(text("insert into cases (case_number, title, cause_of_action, procedure, status, "
                          "created_at, updated_at) values ('c1', '', '', 'ordinary', 'filed', "
                          "current_timestamp, current_timestamp)"))
        conn.execute(text("insert into hearings (case_id, title, status, created_at) "
                          "select id, '', 'ended', current_timestamp from cases"))
        conn.execute(text("insert into transcript_segments (hearing_id, seq, start_s, end_s, text, words, "
                          "confidence, engine, model, status, sealed, search_grams, created_at, updated_at) "
                          "select id, 1, 3.0, 5.5, '证人住址', '[]', 0.9, '', '', 'draft', true, '', "
                          "current_timestamp, current_timestamp from hearings"))
    engine.dispose()

    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == HEAD
    engine = make_engine(empty_db_url)
    with session_factory(engine)() as s:
        hearing = s.scalars(select(Hearing)).one()
        line = s.scalars(select(TranscriptSegment)).one()
        assert (line.hearing_id, line.text, line.sealed) == (hearing.id, "证人住址", True)
        s.add(SealedRange(hearing_id=hearing.id, start_s=2.0, end_s=9.0, reason="证人个人信息",
                          sealed_by_id=s.scalars(select(User.id)).one()))
        s.commit()
        stored = s.scalars(select(SealedRange)).one()
        assert (stored.start_s, stored.end_s, stored.created_at.tzinfo) == (2.0, 9.0, UTC)
    engine.dispose()
    downgrade(empty_db_url, "0003_segment_revision")
    assert "sealed_ranges" not in _tables(empty_db_url)
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from transcript_segments where sealed")).scalar_one() == 1
    engine.dispose()


def test_case_number_key_migration_keys_the_cases_there_are(empty_db_url: str) -> None:
    """0006 gives every case its number as the search's case filter compares it (NFKC, no blanks), so
    that a case filed before the upgrade is found by its printed number; down again, only the key goes."""
    upgrade(empty_db_url, "0005_speaker_revision")
    engine = make_engine(empty_db_url)
    with engine.begin() as conn:
        for number in ("(2024)吉2424民初123号", "（２０２３）吉2424民初77号 "):
            conn.execute(text("insert into cases (case_number, title, cause_of_action, procedure, status, "
                              "created_at, updated_at) values (:n, '', '', 'ordinary', 'filed', "
                              "current_timestamp, current_timestamp)"), {"n": number})
    engine.dispose()

    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    with session_factory(engine)() as s:
        keys = s.execute(select(Case.case_number, Case.number_key).order_by(Case.id)).all()
        assert [tuple(k) for k in keys] == [("(2024)吉2424民初123号", "(2024)吉2424民初123号"),
                                            ("（２０２３）吉2424民初77号 ", "(2023)吉2424民初77号")]
        s.add(Case(case_number="（2025）吉2424民初1号"))  # a new case is keyed by the ORM
        s.commit()
        assert s.scalars(select(Case.number_key).where(Case.id == 3)).one() == "(2025)吉2424民初1号"
    engine.dispose()
    downgrade(empty_db_url, "0005_speaker_revision")
    engine = make_engine(empty_db_url)
    assert "number_key" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from cases")).scalar_one() == 3
    engine.dispose()


def test_orm_and_migration_do_not_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(ctx, Base.metadata) == []
    engine.dispose()


def test_round_trip_keeps_utc_enums_json_and_passwords(sessions) -> None:
    start = datetime(2024, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)
    with sessions.begin() as s:
        case = Case(case_number="(2024)吉2424民初123号", cause_of_action="借款合同纠纷")
        s.add(case)
        s.flush()
        plaintiff = Participant(
            case_id=case.id, name="张三", role=ParticipantRole.PLAINTIFF, side=Side.PLAINTIFF
        )
        s.add(plaintiff)
        s.flush()
        counsel = Participant(
            case_id=case.id,
            name="李律师",
            role=ParticipantRole.AGENT,
            represented_participant_id=plaintiff.id,
        )
        hearing = Hearing(case_id=case.id, started_at=start)
        s.add_all(
            [counsel, hearing, User(login="judge1", password_hash=hash_password("pw"), role=UserRole.JUDGE)]
        )
        s.flush()
        words = [{"start": 0.0, "end": 0.4, "word": "原告", "probability": 0.93}]
        s.add(
            TranscriptSegment(
                hearing_id=hearing.id, start_s=0.0, end_s=0.4, text="原告", words=words, role="plaintiff"
            )
        )
    with sessions() as s:
        hearing = s.scalars(select(Hearing)).one()
        assert hearing.started_at == start and hearing.started_at.tzinfo is not None
        seg = s.scalars(select(TranscriptSegment)).one()
        assert seg.words[0]["word"] == "原告" and seg.role is ParticipantRole.PLAINTIFF
        assert seg.search_grams == "原 告 原告"
        assert s.execute(text("select role from participants where name = '李律师'")).scalar() == "agent"
        counsel = s.scalars(select(Participant).where(Participant.role == ParticipantRole.AGENT)).one()
        assert counsel.represented is not None and counsel.represented.name == "张三"
        user = s.scalars(select(User)).one()
        assert verify_password(user.password_hash, "pw") and not verify_password(user.password_hash, "wrong")


def test_cli_db_upgrade_current_downgrade(empty_db_url: str) -> None:
    env = {**os.environ, "COURTROOM_DATABASE__URL": empty_db_url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "courtroom_api.cli", "db", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )

    up = cli("upgrade")
    assert up.returncode == 0, up.stderr
    assert HEAD in up.stdout
    assert current_revision(empty_db_url) == HEAD
    down = cli("downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert current_revision(empty_db_url) is None
    assert "base" in cli("current").stdout


def test_cli_downgrade_refuses_to_drop_logouts_and_seals_without_force(db_url: str) -> None:
    """`db downgrade` dropped the logouts (0002) and the range seals (0004) without a word, and an upgrade
    made their tables again, empty: the logged-out token was accepted again, and the parties heard the
    sealed stretch. It refuses now, naming what would be lost, and changes nothing; --force goes on."""
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with session_factory(engine)() as s:
        user = User(login="clerk1", display_name="", password_hash="x", role=UserRole.CLERK,
                    tokens_valid_after=now)
        case = Case(case_number="(2024)吉2424民初5号")
        s.add_all([user, case])
        s.flush()
        hearing = Hearing(case_id=case.id, title="")
        s.add(hearing)
        s.flush()
        line = TranscriptSegment(hearing_id=hearing.id, start_s=0.0, end_s=2.0, text="证人住址", search_grams="")
        s.add_all([line, RevokedToken(jti="j1", user_id=user.id, expires_at=now + timedelta(hours=12), revoked_by="x"),
                   SealedRange(hearing_id=hearing.id, start_s=1.0, end_s=9.0, reason="证人隐私")])
        s.flush()
        s.add(SegmentRevision(segment_id=line.id, before_text=line.text, after_text=line.text, speaker_changed=True,
                              before_role=ParticipantRole.PLAINTIFF, after_role=ParticipantRole.WITNESS))
        s.commit()
    engine.dispose()
    env = {**os.environ, "COURTROOM_DATABASE__URL": db_url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "courtroom_api.cli", "db", "downgrade", *args], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)

    def kept() -> tuple[int, int, int]:
        eng = make_engine(db_url)
        with eng.connect() as conn:
            counts = tuple(conn.execute(text(f"select count(*) from {t}")).scalar_one()
                           for t in ("revoked_tokens", "sealed_ranges", "segment_revisions"))
        eng.dispose()
        return counts  # type: ignore[return-value]

    out = cli("0001_initial")
    assert out.returncode == 2 and out.stdout == "", out.stderr
    said = out.stderr
    assert said.startswith("courtroom db downgrade: refused: the downgrade to 0001_initial would destroy:\n")
    for line_said in ("\n  0005_speaker_revision: 1 speaker corrections (segment_revisions",
                      "\n  0004_sealed_ranges: 1 sealed time ranges (sealed_ranges), SEALED TESTIMONY EXPOSED",
                      "\n  0002_token_revocation: 1 logged-out tokens (revoked_tokens)",
                      "\n  0002_token_revocation: 1 users whose sessions were ended", "run it again with --force"):
        assert line_said in said, said
    assert "0007" not in said and "0006" not in said and "0003" not in said  # (nothing lost / made again)
    assert current_revision(db_url) == HEAD and kept() == (1, 1, 1)
    out = cli("-4")  # relative, as the downgrade counts it: 0007, 0006, 0005 and 0004
    assert out.returncode == 2 and "sealed time ranges" in out.stderr and "logged-out" not in out.stderr, out.stderr
    assert current_revision(db_url) == HEAD
    base = cli("base")
    assert base.returncode == 2 and "\n  0001_initial: 1 cases (cases)\n" in base.stderr, base.stderr
    assert "1 transcript lines" in base.stderr and "statute" not in base.stderr  # (none: not listed)

    out = cli("-2")  # 0007 drops the server lease, 0006 a key made again from the case number: nothing lost
    assert out.returncode == 0 and out.stderr == "" and current_revision(db_url) == "0005_speaker_revision", out.stderr
    out = cli("0003_segment_revision", "--force")
    assert out.returncode == 0 and current_revision(db_url) == "0003_segment_revision", out.stderr
    assert out.stderr.startswith("courtroom db downgrade: --force: destroying:\n") and "sealed time ranges" in out.stderr
    assert "sealed_ranges" not in _tables(db_url)


def test_cli_default_database_is_sqlite_under_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURTROOM_DATABASE")}
    env["COURTROOM_DATA_DIR"] = str(tmp_path / "data")
    out = subprocess.run(
        [sys.executable, "-m", "courtroom_api.cli", "db", "upgrade"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "data" / "courtroom.sqlite3").is_file()
