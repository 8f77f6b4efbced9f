"""Initial dossier schema: courts, cases, participants, users, hearings, recordings, transcript
segments, revisions, annotations, evidence, audit chain, voiceprints, statutes, court notes, seat
assignments; plus the per-dialect search index (FTS5 on SQLite, pg_trgm + tsvector on PostgreSQL).

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS_HASH = "0" * 64

# Tables whose text is searchable: (table, FTS5 prefix). Each has `text` and `search_grams`.
SEARCHABLE = (("transcript_segments", "segment"), ("statutes", "statute"))
# PostgreSQL: columns filtered on beside the text, kept in its GIN indexes (btree_gin), so that
# "term spoken by a witness" is one index scan instead of an AND with 70,000 witness rows.
GIN_FILTER_COLUMNS = {"transcript_segments": ", role"}


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("object", sa.String(length=200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
    )
    op.create_index("ix_audit_events_action", "audit_events", ["action"])
    op.create_index("ix_audit_events_object", "audit_events", ["object"])

    op.create_table(
        "courts",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courts")),
        sa.UniqueConstraint("code", name=op.f("uq_courts_code")),
    )
    op.create_table(
        "statutes",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("article", sa.String(length=50), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("search_grams", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statutes")),
        sa.UniqueConstraint("code", "article", name="uq_statutes_code_article"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", ID, nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_event_id"],
            ["audit_events.id"],
            name=op.f("fk_audit_head_last_event_id_audit_events"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "cases",
        sa.Column("id", ID, nullable=False),
        sa.Column("court_id", ID, nullable=True),
        sa.Column("case_number", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("cause_of_action", sa.String(length=200), nullable=False),
        sa.Column("procedure", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["court_id"], ["courts.id"], name=op.f("fk_cases_court_id_courts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_number", name=op.f("uq_cases_case_number")),
    )
    op.create_index("ix_cases_court_id", "cases", ["court_id"])

    op.create_table(
        "courtrooms",
        sa.Column("id", ID, nullable=False),
        sa.Column("court_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("profile_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["court_id"], ["courts.id"], name=op.f("fk_courtrooms_court_id_courts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courtrooms")),
        sa.UniqueConstraint("court_id", "name", name="uq_courtrooms_court_id_name"),
    )
    op.create_index("ix_courtrooms_court_id", "courtrooms", ["court_id"])

    op.create_table(
        "hearings",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("courtroom_id", ID, nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("scheduled_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hearings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["courtroom_id"],
            ["courtrooms.id"],
            name=op.f("fk_hearings_courtroom_id_courtrooms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearings")),
    )
    op.create_index("ix_hearings_case_id", "hearings", ["case_id"])
    op.create_index("ix_hearings_scheduled_start", "hearings", ["scheduled_start"])
    op.create_index("ix_hearings_started_at", "hearings", ["started_at"])

    op.create_table(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("courtroom_id", ID, nullable=True),
        sa.Column("side", sa.String(length=32), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["courtroom_id"],
            ["courtrooms.id"],
            name=op.f("fk_users_courtroom_id_courtrooms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "case_access",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("granted_by_id", ID, nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_access_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["users.id"],
            name=op.f("fk_case_access_granted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_case_access_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_access")),
        sa.UniqueConstraint("case_id", "user_id", name="uq_case_access_case_id_user_id"),
    )
    op.create_index("ix_case_access_case_id", "case_access", ["case_id"])
    op.create_index("ix_case_access_user_id", "case_access", ["user_id"])

    op.create_table(
        "court_notes",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("hearing_id", ID, nullable=True),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_court_notes_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_court_notes_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["hearings.id"],
            name=op.f("fk_court_notes_hearing_id_hearings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_court_notes")),
    )
    op.create_index("ix_court_notes_author_id", "court_notes", ["author_id"])
    op.create_index("ix_court_notes_case_id", "court_notes", ["case_id"])

    op.create_table(
        "participants",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=32), nullable=True),
        sa.Column("seat", sa.String(length=50), nullable=True),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("represented_participant_id", ID, nullable=True),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_participants_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["represented_participant_id"],
            ["participants.id"],
            name=op.f("fk_participants_represented_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_participants_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
    )
    op.create_index("ix_participants_case_id", "participants", ["case_id"])
    op.create_index(
        "ix_participants_represented_participant_id", "participants", ["represented_participant_id"]
    )
    op.create_index("ix_participants_user_id", "participants", ["user_id"])

    op.create_table(
        "recordings",
        sa.Column("id", ID, nullable=False),
        sa.Column("hearing_id", ID, nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("channel_count", sa.Integer(), nullable=False),
        sa.Column("channel_layout", sa.JSON(), nullable=False),
        sa.Column("segment_files", sa.JSON(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("chain_head", sa.String(length=64), nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["hearings.id"],
            name=op.f("fk_recordings_hearing_id_hearings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index("ix_recordings_hearing_id", "recordings", ["hearing_id"])

    op.create_table(
        "evidence",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("exhibit_number", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("submitted_by_participant_id", ID, nullable=True),
        sa.Column("submitted_by_user_id", ID, nullable=True),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_evidence_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_participant_id"],
            ["participants.id"],
            name=op.f("fk_evidence_submitted_by_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_user_id"],
            ["users.id"],
            name=op.f("fk_evidence_submitted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("case_id", "exhibit_number", name="uq_evidence_case_id_exhibit_number"),
    )
    op.create_index("ix_evidence_blob_sha256", "evidence", ["blob_sha256"])
    op.create_index("ix_evidence_case_id", "evidence", ["case_id"])

    op.create_table(
        "seat_assignments",
        sa.Column("id", ID, nullable=False),
        sa.Column("hearing_id", ID, nullable=False),
        sa.Column("seat", sa.String(length=50), nullable=False),
        sa.Column("participant_id", ID, nullable=False),
        sa.Column("from_s", sa.Float(), nullable=False),
        sa.Column("to_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["hearings.id"],
            name=op.f("fk_seat_assignments_hearing_id_hearings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_seat_assignments_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_assignments")),
    )
    op.create_index("ix_seat_assignments_hearing_seat", "seat_assignments", ["hearing_id", "seat", "from_s"])
    op.create_index("ix_seat_assignments_participant_id", "seat_assignments", ["participant_id"])

    op.create_table(
        "transcript_segments",
        sa.Column("id", ID, nullable=False),
        sa.Column("hearing_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("channel", sa.Integer(), nullable=True),
        sa.Column("seat", sa.String(length=50), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("participant_id", ID, nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("engine", sa.String(length=50), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        sa.Column("search_grams", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["hearings.id"],
            name=op.f("fk_transcript_segments_hearing_id_hearings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_transcript_segments_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_segments")),
    )
    op.create_index("ix_transcript_segments_hearing_seq", "transcript_segments", ["hearing_id", "seq"])
    op.create_index("ix_transcript_segments_hearing_start", "transcript_segments", ["hearing_id", "start_s"])
    op.create_index("ix_transcript_segments_participant_id", "transcript_segments", ["participant_id"])
    op.create_index("ix_transcript_segments_role", "transcript_segments", ["role"])

    op.create_table(
        "voiceprints",
        sa.Column("id", ID, nullable=False),
        sa.Column("participant_id", ID, nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_voiceprints_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voiceprints")),
    )
    op.create_index("ix_voiceprints_participant_id", "voiceprints", ["participant_id"])

    op.create_table(
        "annotations",
        sa.Column("id", ID, nullable=False),
        sa.Column("hearing_id", ID, nullable=False),
        sa.Column("segment_id", ID, nullable=True),
        sa.Column("start_s", sa.Float(), nullable=True),
        sa.Column("end_s", sa.Float(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("color", sa.String(length=20), nullable=True),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_annotations_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["hearing_id"],
            ["hearings.id"],
            name=op.f("fk_annotations_hearing_id_hearings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["transcript_segments.id"],
            name=op.f("fk_annotations_segment_id_transcript_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index("ix_annotations_author_id", "annotations", ["author_id"])
    op.create_index("ix_annotations_hearing_id", "annotations", ["hearing_id"])
    op.create_index("ix_annotations_segment_id", "annotations", ["segment_id"])

    op.create_table(
        "segment_revisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("segment_id", ID, nullable=False),
        sa.Column("before_text", sa.Text(), nullable=False),
        sa.Column("after_text", sa.Text(), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_segment_revisions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["transcript_segments.id"],
            name=op.f("fk_segment_revisions_segment_id_transcript_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_revisions")),
    )
    op.create_index("ix_segment_revisions_segment_id", "segment_revisions", ["segment_id"])

    _seed_audit_head()
    _create_search_index()


def downgrade() -> None:
    """Remove everything this revision created (the pg_trgm and btree_gin extensions stay: shared)."""
    _drop_search_index()
    op.drop_table("segment_revisions")
    op.drop_table("annotations")
    op.drop_table("voiceprints")
    op.drop_table("transcript_segments")
    op.drop_table("seat_assignments")
    op.drop_table("evidence")
    op.drop_table("recordings")
    op.drop_table("participants")
    op.drop_table("court_notes")
    op.drop_table("case_access")
    op.drop_table("users")
    op.drop_table("hearings")
    op.drop_table("courtrooms")
    op.drop_table("cases")
    op.drop_table("audit_head")
    op.drop_table("statutes")
    op.drop_table("courts")
    op.drop_table("audit_events")


# What downgrade() destroys that a court would miss, as counted for `courtroom db downgrade`
DOSSIER_TABLES = (("cases", "cases"), ("hearings", "hearings"), ("transcript_segments", "transcript lines"),
                  ("recordings", "recordings filed"), ("evidence", "exhibits"), ("users", "users"),
                  ("audit_events", "audit log events"), ("statutes", "statute articles"))


def data_lost_on_downgrade(connection: sa.Connection) -> list[tuple[int, str]]:
    """What downgrade() destroys (see models.downgrade_losses): the whole dossier."""
    return [(connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0, f"{what} ({table})")
            for table, what in DOSSIER_TABLES]


def _seed_audit_head() -> None:
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("hash", sa.String),
        sa.column("count", sa.Integer),
    )
    op.bulk_insert(head, [{"id": 1, "hash": GENESIS_HASH, "count": 0}])


def _create_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, prefix in SEARCHABLE:
            _create_sqlite_fts(table, prefix)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        for table, _prefix in SEARCHABLE:
            _create_postgres_index(table)


def _create_postgres_index(table: str) -> None:
    # pg_trgm GIN for ILIKE '%term%' (3+ characters); a stored tsvector of `search_grams` (unigram
    # and bigram tokens) with its own GIN index for 1-2 character terms. Stored, not an expression
    # index, so that checking a row against it is cheap when the planner walks the newest rows.
    also = GIN_FILTER_COLUMNS.get(table, "")
    op.execute(f"CREATE INDEX ix_{table}_text_trgm ON {table} USING gin (text gin_trgm_ops{also})")
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN search_tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_grams)) STORED"
    )
    op.execute(f"CREATE INDEX ix_{table}_grams_tsv ON {table} USING gin (search_tsv{also})")
    # BRIN on id: search looks at the newest ids first (models.search_sql.postgres_newest_ids).
    # ANDed with a GIN bitmap it confines the heap visits to a window for a few kB of index,
    # where the primary key's bitmap costs as much as the window is long. Rows are appended in id
    # order, so block ranges hold narrow id ranges; autosummarize keeps the newest ranges summed up.
    op.execute(
        f"CREATE INDEX ix_{table}_id_brin ON {table} USING brin (id) WITH (pages_per_range = 32, autosummarize = on)"
    )


def _create_sqlite_fts(table: str, prefix: str) -> None:
    # Two external-content FTS5 tables over the same rows: trigrams of `text` for queries of 3+
    # characters, and word tokens of `search_grams` (one token per CJK character) for 1-2
    # character Chinese queries. Triggers keep both in step with the table.
    op.execute(
        f"CREATE VIRTUAL TABLE {prefix}_fts USING fts5(text, content='{table}', "
        "content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE {prefix}_grams_fts USING fts5(search_grams, content='{table}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
    )
    add = (
        f"INSERT INTO {prefix}_fts(rowid, text) VALUES (new.id, new.text); "
        f"INSERT INTO {prefix}_grams_fts(rowid, search_grams) VALUES (new.id, new.search_grams);"
    )
    remove = (
        f"INSERT INTO {prefix}_fts({prefix}_fts, rowid, text) VALUES ('delete', old.id, old.text); "
        f"INSERT INTO {prefix}_grams_fts({prefix}_grams_fts, rowid, search_grams) "
        "VALUES ('delete', old.id, old.search_grams);"
    )
    op.execute(f"CREATE TRIGGER {prefix}_fts_ai AFTER INSERT ON {table} BEGIN {add} END")
    op.execute(f"CREATE TRIGGER {prefix}_fts_ad AFTER DELETE ON {table} BEGIN {remove} END")
    op.execute(
        f"CREATE TRIGGER {prefix}_fts_au AFTER UPDATE OF text, search_grams ON {table} "
        f"BEGIN {remove} {add} END"
    )


def _drop_search_index() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, prefix in SEARCHABLE:
        if sqlite:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {prefix}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {prefix}_fts")
            op.execute(f"DROP TABLE IF EXISTS {prefix}_grams_fts")
        else:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_text_trgm")
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_grams_tsv")
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_id_brin")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_tsv")
