"""platform questions: 音浪 is asked only of streamers on a platform that has it

Revision ID: 0014_platform_questions
Revises: 0013_excel
Create Date: 2026-12-07 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_platform_questions"
down_revision: str | None = "0013_excel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("streamers") as batch:
        batch.alter_column("tips_income", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # a streamer who was not asked had no 音浪 to declare: 0, as the notice's sheet would say
    op.execute("UPDATE streamers SET tips_income = 0 WHERE tips_income IS NULL")
    with op.batch_alter_table("streamers") as batch:
        batch.alter_column("tips_income", existing_type=sa.BigInteger(), nullable=False)
