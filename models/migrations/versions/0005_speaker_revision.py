"""``segment_revisions``: a correction of who said a line (the seat's role, the participant), kept as a
revision beside the text corrections: before and after, who, when, why. Revisions made before this are
text corrections (``speaker_changed`` false).

Revision ID: 0005_speaker_revision
Revises: 0004_sealed_ranges
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_speaker_revision"
down_revision = "0004_sealed_ranges"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the columns (nullable, or false: every revision before is a text correction)."""
    op.add_column("segment_revisions", sa.Column("before_role", sa.String(length=32), nullable=True))
    op.add_column("segment_revisions", sa.Column("after_role", sa.String(length=32), nullable=True))
    op.add_column("segment_revisions", sa.Column("before_participant_id", ID, nullable=True))
    op.add_column("segment_revisions", sa.Column("after_participant_id", ID, nullable=True))
    op.add_column("segment_revisions",
                  sa.Column("speaker_changed", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    """Plain DROP COLUMNs (SQLite 3.35+), as 0003's downgrade; the speaker changes' history goes with them."""
    for column in ("speaker_changed", "after_participant_id", "before_participant_id", "after_role", "before_role"):
        op.drop_column("segment_revisions", column)


def data_lost_on_downgrade(connection: sa.Connection) -> list[tuple[int, str]]:
    """What downgrade() destroys (see models.downgrade_losses); an upgrade makes the columns again, empty."""
    revisions = sa.table("segment_revisions", sa.column("speaker_changed", sa.Boolean))
    rows = connection.scalar(sa.select(sa.func.count()).select_from(revisions)
                             .where(revisions.c.speaker_changed == sa.true())) or 0
    return [(rows, "speaker corrections (segment_revisions.before_role … speaker_changed): who each line was "
                   "credited to before and after the correction (the revisions stay, as text corrections)")]
