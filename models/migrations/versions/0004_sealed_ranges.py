"""``sealed_ranges``: a time range sealed with ``POST /api/hearings/{id}/seal`` kept as a record of its own
(hearing, start, end, who, when, why), so that a line of that stretch filed after the seal is sealed too
and its audio is silent where no line was filed. Range seals made before this revision flagged the lines
that existed then and left no record of their times: those lines stay sealed, and nothing is guessed.

Revision ID: 0004_sealed_ranges
Revises: 0003_segment_revision
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_sealed_ranges"
down_revision = "0003_segment_revision"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sealed_ranges",
        sa.Column("id", ID, nullable=False),
        sa.Column("hearing_id", ID, nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("sealed_by_id", ID, nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hearing_id"], ["hearings.id"], name=op.f("fk_sealed_ranges_hearing_id_hearings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sealed_by_id"], ["users.id"], name=op.f("fk_sealed_ranges_sealed_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_ranges")),
    )
    op.create_index("ix_sealed_ranges_hearing_start", "sealed_ranges", ["hearing_id", "start_s"])


def downgrade() -> None:
    """Drop the table (the lines its ranges sealed stay sealed)."""
    op.drop_table("sealed_ranges")


def data_lost_on_downgrade(connection: sa.Connection) -> list[tuple[int, str]]:
    """What downgrade() destroys (see models.downgrade_losses); an upgrade makes the table again, empty."""
    rows = connection.scalar(sa.text("SELECT count(*) FROM sealed_ranges")) or 0
    return [(rows, "sealed time ranges (sealed_ranges), SEALED TESTIMONY EXPOSED: parties and appeal judges "
                   "would hear the recordings over them wherever no sealed line was filed, and a line filed "
                   "there later would not be sealed (lines sealed so far stay sealed)")]
