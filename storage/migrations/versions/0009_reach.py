"""reach: officers' phones for click-to-call, and the calls made through the helpline's number

Revision ID: 0009_reach
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0009_reach"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
    op.create_table(
        "officer_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parent_status", sa.String(length=16), nullable=True),
        sa.Column("parent_seconds", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["enquiry.id"],
            name=op.f("fk_officer_call_enquiry_id_enquiry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_officer_call_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["call_attempt.id"],
            name=op.f("fk_officer_call_attempt_id_call_attempt"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_call")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_officer_call_call_sid")),
    )
    op.create_index(op.f("ix_officer_call_enquiry_id"), "officer_call", ["enquiry_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_officer_call_enquiry_id"), table_name="officer_call")
    op.drop_table("officer_call")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("phone")
