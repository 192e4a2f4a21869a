"""erased_marks: fingerprints of erased streamer accounts and enterprise names, so that a unit's
sheet imported after an erasure does not register the person again

Revision ID: 0019_export
Revises: 0018_telegram_shown
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0019_export"
down_revision: str | None = "0018_telegram_shown"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "erased_marks",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_marks")),
        sa.UniqueConstraint("kind", "digest", name=op.f("uq_erased_marks_kind_digest")),
    )


def downgrade() -> None:
    op.drop_table("erased_marks")
