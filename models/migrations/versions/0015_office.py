"""office: /certificates above the chat limit drawn in the background (certificate_runs and
their items)

Revision ID: 0015_office
Revises: 0014_erasure
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0015_office"
down_revision: str | None = "0014_erasure"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "certificate_runs",
        sa.Column("requested_by", BIG_ID, nullable=False),
        sa.Column("requested_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outdir", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.Column("not_drawn", sa.Integer(), nullable=False),
        sa.Column("told_percent", sa.Integer(), nullable=False),
        sa.Column("archive_path", sa.String(length=300), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_runs")),
    )
    op.create_index(
        op.f("ix_certificate_runs_status"), "certificate_runs", ["status"], unique=False
    )
    op.create_table(
        "certificate_run_items",
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("certificate_id", BIG_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("done_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["certificate_runs.id"],
            name=op.f("fk_certificate_run_items_run_id_certificate_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "certificate_id", name=op.f("pk_certificate_run_items")),
    )
    op.create_index(
        "ix_certificate_run_items_open",
        "certificate_run_items",
        ["run_id", "outcome", "position"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_certificate_run_items_open", table_name="certificate_run_items")
    op.drop_table("certificate_run_items")
    op.drop_index(op.f("ix_certificate_runs_status"), table_name="certificate_runs")
    op.drop_table("certificate_runs")
