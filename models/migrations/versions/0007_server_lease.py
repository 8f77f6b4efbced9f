"""``server_lease``: the one ``courtroom serve`` a database (host, pid, data directory, heartbeat).
A second server with a data directory of its own resumed the first's live hearing and filed every
transcript line twice; the data directory's ``server.lock`` could not see it.

Revision ID: 0007_server_lease
Revises: 0006_case_number_key
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_server_lease"
down_revision = "0006_case_number_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table, empty: the first server to start inserts the row."""
    op.create_table(
        "server_lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("data_dir", sa.Text(), nullable=False),
        sa.Column("directory_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_lease")),
    )


def downgrade() -> None:
    """Drop the table (nothing of the dossier is in it; a running server's heartbeat then fails)."""
    op.drop_table("server_lease")
