"""wechat_followers.asked_by: which message's step asked the follower's open question, so any
worker can tell whether a late reply waiting in the outbox is superseded

Revision ID: 0017_asked_by
Revises: 0015_wechat_pending
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_asked_by"
down_revision: str | None = "0015_wechat_pending"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wechat_followers") as batch:
        batch.add_column(sa.Column("asked_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wechat_followers") as batch:
        batch.drop_column("asked_by")
