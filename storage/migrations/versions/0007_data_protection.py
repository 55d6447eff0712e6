"""data protection: encrypted columns, look-up hashes, anonymised enquiries

Revision ID: 0007
Revises: 0006

Existing rows are encrypted during the upgrade with the keys the service configured
(`helpline db upgrade` configures them first); an upgrade with rows but no keys stops with
a readable error. SQLite cannot drop a constraint without rebuilding the table, and a rebuild
with foreign keys on would cascade-delete children, so there the old (channel, address)
unique constraint stays: it holds ciphertext, which never repeats, so it is inert.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types
from storage import crypto

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Columns whose ciphertext outgrows their old VARCHAR length (PostgreSQL enforces it).
WIDENED = (
    ("contact", "address", 255),
    ("inbox", "address", 255),
    ("outbox", "address", 255),
    ("enquiry", "child_age", 64),
    ("enquiry", "callback_phone", 32),
    ("voice_call", "caller", 32),
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    for table in ("contact", "inbox", "outbox"):
        op.add_column(table, sa.Column("address_hash", sa.String(64), nullable=True))
    op.add_column("enquiry", sa.Column("callback_phone_hash", sa.String(64), nullable=True))
    op.add_column("voice_call", sa.Column("caller_hash", sa.String(64), nullable=True))
    op.create_index("ix_voice_call_caller_hash", "voice_call", ["caller_hash"])
    op.add_column(
        "enquiry",
        sa.Column("anonymised_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_inbox_address_hash", "inbox", ["address_hash"])
    op.create_index("ix_outbox_address_hash", "outbox", ["address_hash"])
    op.create_index("ix_enquiry_callback_phone_hash", "enquiry", ["callback_phone_hash"])
    op.drop_index("ix_enquiry_callback_phone", table_name="enquiry")
    if _postgres():
        op.drop_constraint("uq_contact_channel_address", "contact", type_="unique")
        for table, column, _length in WIDENED:
            op.alter_column(table, column, type_=sa.Text())
    bind = op.get_bind()
    if crypto.needs_keys(bind):
        if not crypto.is_configured():
            raise RuntimeError(
                "existing rows must be encrypted: set HELPLINE_ENCRYPTION_KEYS and run "
                "`helpline db upgrade` (it configures the keys before migrating)"
            )
        crypto.reseal_all(bind)
    op.create_index(
        "uq_contact_channel_address_hash", "contact", ["channel", "address_hash"], unique=True
    )


def downgrade() -> None:
    bind = op.get_bind()
    if crypto.needs_keys(bind):
        if not crypto.is_configured():
            raise RuntimeError("decrypting rows for the downgrade needs HELPLINE_ENCRYPTION_KEYS")
        crypto.reseal_all(bind, decrypt_only=True)
    op.drop_index("uq_contact_channel_address_hash", table_name="contact")
    op.drop_index("ix_enquiry_callback_phone_hash", table_name="enquiry")
    op.drop_index("ix_outbox_address_hash", table_name="outbox")
    op.drop_index("ix_inbox_address_hash", table_name="inbox")
    op.drop_index("ix_voice_call_caller_hash", table_name="voice_call")
    op.create_index("ix_enquiry_callback_phone", "enquiry", ["callback_phone"])
    if _postgres():
        for table, column, length in WIDENED:
            op.alter_column(table, column, type_=sa.String(length))
        op.create_unique_constraint("uq_contact_channel_address", "contact", ["channel", "address"])
    for table, column in (
        ("enquiry", "anonymised_at"),
        ("enquiry", "callback_phone_hash"),
        ("voice_call", "caller_hash"),
        ("outbox", "address_hash"),
        ("inbox", "address_hash"),
        ("contact", "address_hash"),
    ):
        # SQLite 3.35+ drops a plain column in place (no table rebuild, so no cascades).
        op.drop_column(table, column)
