"""Server-side token revocation: ``revoked_tokens`` (logged-out tokens by jti) and
``users.tokens_valid_after`` (tokens issued earlier are refused).

Revision ID: 0002_token_revocation
Revises: 0001_initial
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_token_revocation"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("users", sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_revoked_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_tokens")),
    )
    op.create_index("ix_revoked_tokens_user_id", "revoked_tokens", ["user_id"])
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])


def downgrade() -> None:
    """Drop the table and the column: a plain DROP COLUMN (SQLite 3.35+), not a batch copy, since
    with foreign keys on, dropping the old ``users`` would fire the ON DELETE actions of every table
    that references it (grants, notes and annotations deleted)."""
    op.drop_table("revoked_tokens")
    op.drop_column("users", "tokens_valid_after")


def data_lost_on_downgrade(connection: sa.Connection) -> list[tuple[int, str]]:
    """What downgrade() destroys (see models.downgrade_losses); an upgrade makes both again, empty."""
    return [
        (connection.scalar(sa.text("SELECT count(*) FROM revoked_tokens")) or 0,
         "logged-out tokens (revoked_tokens): each would be accepted again until it expires"),
        (connection.scalar(sa.text("SELECT count(*) FROM users WHERE tokens_valid_after IS NOT NULL")) or 0,
         "users whose sessions were ended (users.tokens_valid_after: a new password, a disabled login): "
         "the tokens they had before would be accepted again until they expire"),
    ]
