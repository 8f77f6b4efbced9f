"""``cases.number_key``: the case number as the search's case filter compares it (NFKC, no blanks,
letter case aside; see ``models.dossier.case_number_key``), indexed, so that a number typed with
full-width brackets ("（2024）吉2424民初123号", as official numbers are printed) or a stray space finds
the case filed as "(2024)吉2424民初123号", and the other way round. Existing cases get theirs here.

Revision ID: 0006_case_number_key
Revises: 0005_speaker_revision
Create Date: 2026-12-08
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006_case_number_key"
down_revision = "0005_speaker_revision"
branch_labels = None
depends_on = None


def _key(number: str) -> str:
    # models.dossier.case_number_key as of this revision (a migration does not follow later code)
    return "".join(unicodedata.normalize("NFKC", number).split()).casefold()


def upgrade() -> None:
    """Add the column and its index, and fill it for the cases there are."""
    op.add_column("cases", sa.Column("number_key", sa.Text(), nullable=True))
    op.create_index("ix_cases_number_key", "cases", ["number_key"])
    bind = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("case_number", sa.String),
                     sa.column("number_key", sa.Text))
    rows = bind.execute(sa.select(cases.c.id, cases.c.case_number)).all()
    if rows:
        bind.execute(cases.update().where(cases.c.id == sa.bindparam("case_id"))
                     .values(number_key=sa.bindparam("key")),
                     [{"case_id": row.id, "key": _key(row.case_number)} for row in rows])


def downgrade() -> None:
    """Drop the index and the column (the key is derived from case_number: nothing is lost)."""
    op.drop_index("ix_cases_number_key", table_name="cases")
    op.drop_column("cases", "number_key")
