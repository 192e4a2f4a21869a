"""trust: daily reports held by the anomaly rules (which fired), their evidence's hash

Revision ID: 0014_trust
Revises: 0015_feedback
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_trust"
down_revision: str | None = "0015_feedback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("daily_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.create_index(
            batch_op.f("ix_daily_reports_evidence_sha256"), ["evidence_sha256"], unique=False
        )
    op.create_index(
        "ix_daily_reports_held",
        "daily_reports",
        ["id"],
        unique=False,
        sqlite_where=sa.text("held"),
        postgresql_where=sa.text("held"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_daily_reports_held",
        table_name="daily_reports",
        sqlite_where=sa.text("held"),
        postgresql_where=sa.text("held"),
    )
    with op.batch_alter_table("daily_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_reports_evidence_sha256"))
        batch_op.drop_column("flags")
        batch_op.drop_column("held")
        batch_op.drop_column("evidence_sha256")
