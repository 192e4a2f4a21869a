"""telegram replies kept until sent

A step's replies are stored with its update (in the step's own commit) and cleared once they
were sent, so replies lost to a crash between the commit and the send are sent at the next
start instead of leaving the person without their next question.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replies", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("answered_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Updates handled before this revision were answered (or are too old to matter).
    op.execute("UPDATE telegram_updates SET answered_at = processed_at")


def downgrade() -> None:
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
        batch_op.drop_column("replies")
