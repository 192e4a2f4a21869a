"""excel: imported sheets, the units' contacts from their sheets, claim codes

Revision ID: 0013_excel
Revises: 0012
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0013_excel"
down_revision: str | None = "0013_announce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sheet_imports",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("unit_id", BIG_ID, nullable=True),
        sa.Column("actor_person_id", BIG_ID, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_path", sa.String(length=300), nullable=True),
        sa.Column("scan_path", sa.String(length=300), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_person_id"],
            ["people.id"],
            name=op.f("fk_sheet_imports_actor_person_id_people"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_sheet_imports_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sheet_imports")),
    )
    with op.batch_alter_table("sheet_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sheet_imports_file_sha256"), ["file_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sheet_imports_unit_id"), ["unit_id"], unique=False)
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_name", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=20), nullable=True))
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("claim_id", BIG_ID, nullable=True))
        batch_op.alter_column("created_by", existing_type=BIG_ID, nullable=True)
        batch_op.create_index(batch_op.f("ix_invitations_claim_id"), ["claim_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_claim_id"))
        batch_op.alter_column("created_by", existing_type=BIG_ID, nullable=False)
        batch_op.drop_column("claim_id")
        batch_op.drop_column("claim_kind")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_name")
    with op.batch_alter_table("sheet_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sheet_imports_unit_id"))
        batch_op.drop_index(batch_op.f("ix_sheet_imports_file_sha256"))
    op.drop_table("sheet_imports")
