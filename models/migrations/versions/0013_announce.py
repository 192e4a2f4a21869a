"""announcements and the units' WeChat QR codes

Revision ID: 0013_announce
Revises: 0012
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013_announce"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("created_by", BIG_ID, nullable=True),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("unit_id", BIG_ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_path", sa.String(length=300), nullable=True),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_announcements_created_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_announcements_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index(
        op.f("ix_announcements_created_by"), "announcements", ["created_by"], unique=False
    )
    op.create_table(
        "wechat_qr_codes",
        sa.Column("unit_id", BIG_ID, nullable=False),
        sa.Column("scene", sa.String(length=64), nullable=False),
        sa.Column("ticket", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("image_path", sa.String(length=300), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_wechat_qr_codes_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_qr_codes")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_wechat_qr_codes_unit_id")),
    )


def downgrade() -> None:
    op.drop_table("wechat_qr_codes")
    op.drop_index(op.f("ix_announcements_created_by"), table_name="announcements")
    op.drop_table("announcements")
