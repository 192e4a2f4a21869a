"""send_pauses: Telegram's 429 waits, shared by several workers (BOT_WORKERS=shared)

Revision ID: 0020_send_pauses
Revises: 0019_export
Create Date: 2026-12-07 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0020_send_pauses"
down_revision: str | None = "0019_export"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_pauses",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("until", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_send_pauses")),
    )


def downgrade() -> None:
    op.drop_table("send_pauses")
