"""reach flags: the parent's unread replies after the intake, and "unreachable by text"

Revision ID: 0013_reach_flags
Revises: 0012_security
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0013_reach_flags"
down_revision: str | None = "0012_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("parent_replies", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("replied_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("text_unreachable_at", UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_column("text_unreachable_at")
        batch_op.drop_column("replied_at")
        batch_op.drop_column("parent_replies")
