"""reports: which file each imported historical case came from (so a file imports once)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("historical_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_batch", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_historical_case_import_batch"), ["import_batch"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("historical_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_historical_case_import_batch"))
        batch_op.drop_column("import_batch")
