"""Partial indexes for the outbox worker's claims (issue 18): the pending messages in claim
order (due_at, id), and the messages being sent by their lease, each holding only the rows of
that status.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")
_SENDING = sa.text("status = 'sending'")


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_pending_due', ['due_at', 'id'], unique=False,
                              sqlite_where=_PENDING, postgresql_where=_PENDING)
        batch_op.create_index('ix_outbox_message_sending_lease', ['lease_until'], unique=False,
                              sqlite_where=_SENDING, postgresql_where=_SENDING)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_sending_lease', sqlite_where=_SENDING,
                            postgresql_where=_SENDING)
        batch_op.drop_index('ix_outbox_message_pending_due', sqlite_where=_PENDING,
                            postgresql_where=_PENDING)
