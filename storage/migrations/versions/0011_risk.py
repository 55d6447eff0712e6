"""risk: the safeguarding work queue (acknowledged and handled, with by whom) on callbacks

Revision ID: 0011_risk
Revises: 0010_ops
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011_risk"
down_revision: str | None = "0010_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acknowledged_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("acknowledged_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("handled_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("handled_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_callback_acknowledged_by_staff",
            "staff",
            ["acknowledged_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            "fk_callback_handled_by_staff", "staff", ["handled_by"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_constraint("fk_callback_handled_by_staff", type_="foreignkey")
        batch_op.drop_constraint("fk_callback_acknowledged_by_staff", type_="foreignkey")
        batch_op.drop_column("handled_by")
        batch_op.drop_column("handled_at")
        batch_op.drop_column("acknowledged_by")
        batch_op.drop_column("acknowledged_at")
