"""telegram updates: the chat each came from

Replies a crash kept from being sent are sent again at start only for each chat's latest
update; with the chat as a column that is one query, not every update of the last day read
into memory.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 03:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_key", sa.String(length=40), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_telegram_updates_chat_key"), ["chat_key", "update_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_telegram_updates_chat_key"))
        batch_op.drop_column("chat_key")
