"""audit: the committee's audit of the top N streamers' reports before the awards

Revision ID: 0014_audit
Revises: 0014_trust
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0014_audit"
down_revision: str | None = "0014_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_audits",
        sa.Column("report_id", BIG_ID, nullable=False),
        sa.Column("streamer_id", BIG_ID, nullable=False),
        sa.Column("report_revision", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("evidence_matches", sa.Boolean(), nullable=False),
        sa.Column("backend_present", sa.Boolean(), nullable=False),
        sa.Column("backend_gmv_fen", sa.BigInteger(), nullable=True),
        sa.Column("reported_gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("audited_by", BIG_ID, nullable=True),
        sa.Column("audited_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["audited_by"], ["people.id"], name=op.f("fk_report_audits_audited_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["daily_reports.id"],
            name=op.f("fk_report_audits_report_id_daily_reports"),
        ),
        sa.ForeignKeyConstraint(
            ["streamer_id"], ["streamers.id"], name=op.f("fk_report_audits_streamer_id_streamers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_audits")),
        sa.UniqueConstraint("report_id", name=op.f("uq_report_audits_report_id")),
    )
    with op.batch_alter_table("report_audits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_audits_streamer_id"), ["streamer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_audits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_audits_streamer_id"))
    op.drop_table("report_audits")
