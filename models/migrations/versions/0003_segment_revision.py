"""``transcript_segments.revision``: how many times a segment's text was corrected, the row's version
for optimistic locking (two clerks correcting one line at once).

Revision ID: 0003_segment_revision
Revises: 0002_token_revocation
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_segment_revision"
down_revision = "0002_token_revocation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column; a segment corrected before gets the number of its revisions."""
    op.add_column("transcript_segments", sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE transcript_segments SET revision = (SELECT COUNT(*) FROM segment_revisions"
        " WHERE segment_revisions.segment_id = transcript_segments.id)"
        " WHERE id IN (SELECT segment_id FROM segment_revisions)"
    )


def downgrade() -> None:
    """A plain DROP COLUMN (SQLite 3.35+), as 0002's downgrade, for the same reason."""
    op.drop_column("transcript_segments", "revision")
