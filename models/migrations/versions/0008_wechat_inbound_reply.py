"""wechat inbound: the reply a callback got, whether it went late, how often WeChat resent it

A resend whose first answer was lost on the way is answered with the same reply, not with an
empty one (which left the follower waiting and retyping, every answer then one question late).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wechat_inbound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("resends", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("wechat_inbound", schema=None) as batch_op:
        batch_op.drop_column("resends")
        batch_op.drop_column("late")
        batch_op.drop_column("reply")
