"""wechat_pending: a WeChat message answered empty is held for its step (the Incoming, the
worker holding it and its lease) until the step commits, so a worker that dies meanwhile
leaves it to another

Revision ID: 0015_wechat_pending
Revises: 0016_update_order
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015_wechat_pending"
down_revision: str | None = "0016_update_order"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wechat_inbound") as batch:
        batch.add_column(sa.Column("openid", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("pending", sa.Text(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("lease_until", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_wechat_inbound_lease_until", ["lease_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wechat_inbound") as batch:
        batch.drop_index("ix_wechat_inbound_lease_until")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
        batch.drop_column("pending")
        batch.drop_column("openid")
