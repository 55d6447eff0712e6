"""voice: where each phone call has got to (language, callback number, enquiry)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enquiry_id"],
            ["enquiry.id"],
            name=op.f("fk_voice_call_enquiry_id_enquiry"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_call")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_voice_call_call_sid")),
    )
    with op.batch_alter_table("voice_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_call_enquiry_id"), ["enquiry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_voice_call_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("voice_call", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_call_updated_at"))
        batch_op.drop_index(batch_op.f("ix_voice_call_enquiry_id"))
    op.drop_table("voice_call")
