"""telegram_shown: which question each private Telegram chat was last shown, from which
message id, shared by several workers (BOT_WORKERS=shared)

Revision ID: 0018_telegram_shown
Revises: 0017_asked_by
Create Date: 2026-12-07 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0018_telegram_shown"
down_revision: str | None = "0017_asked_by"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_shown",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_key", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telegram_shown")),
        sa.UniqueConstraint("chat_key", name=op.f("uq_telegram_shown_chat_key")),
    )


def downgrade() -> None:
    op.drop_table("telegram_shown")
