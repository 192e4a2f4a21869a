"""telegram_updates.order_key: the person an update is from, so several workers can take a
person's oldest unhandled update first (BOT_WORKERS=shared)

Revision ID: 0016_update_order
Revises: 0015_office
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_update_order"
down_revision: str | None = "0015_office"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_updates") as batch:
        batch.add_column(sa.Column("order_key", sa.String(40), nullable=True))
    # only the unhandled ones: the index stays as small as the queue
    op.create_index(
        "ix_telegram_updates_pending",
        "telegram_updates",
        ["order_key", "update_id"],
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_telegram_updates_pending", table_name="telegram_updates")
    with op.batch_alter_table("telegram_updates") as batch:
        batch.drop_column("order_key")
