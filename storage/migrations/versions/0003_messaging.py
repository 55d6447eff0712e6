"""messaging schema slot, used by the benchmark: the "All callbacks, any status" page order

(urgent DESC, due_at, id) needs its own index once closed callbacks pile up: without it a
page sorts every callback ever made (1.5 s at 1,000,000; see bench/RESULTS.md).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OPEN = sa.text("status IN ('queued', 'assigned', 'attempted')")


def upgrade() -> None:
    order: list[str | sa.TextClause] = [sa.text("urgent DESC"), "due_at", "id"]
    op.create_index("ix_callback_due_order", "callback", order, unique=False)
    # Open callbacks only, in page order: the default page stops after 26 rows instead of
    # stepping over every closed urgent callback that sorts before them.
    op.create_index(
        "ix_callback_open_order",
        "callback",
        order,
        unique=False,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_callback_open_order", table_name="callback")
    op.drop_index("ix_callback_due_order", table_name="callback")
