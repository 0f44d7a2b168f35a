"""Fewer indexes to keep up on every imported appointment and planned message (issue 18).

* ``ix_appointment_clinic_id`` goes: ``ix_appointment_clinic_start (clinic_id, starts_at)``
  starts with the same column and serves every query by clinic.
* ``ix_outbox_message_due (status, due_at)`` goes: the worker claims through the partial
  indexes of 0021, and the only other query by status is the letter queue, which gets its own
  partial index in the order it reads (``sent_at, id``).
* ``ix_outbox_message_provider_message_id`` holds only the rows that have a provider id.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_LETTER_QUEUED = sa.text("status = 'letter_queued'")
_HAS_PROVIDER_ID = sa.text("provider_message_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_clinic_id')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_due')
        batch_op.drop_index('ix_outbox_message_provider_message_id')
        batch_op.create_index('ix_outbox_message_provider_message_id', ['provider_message_id'],
                              unique=False, sqlite_where=_HAS_PROVIDER_ID,
                              postgresql_where=_HAS_PROVIDER_ID)
        batch_op.create_index('ix_outbox_message_letter_queue', ['sent_at', 'id'], unique=False,
                              sqlite_where=_LETTER_QUEUED, postgresql_where=_LETTER_QUEUED)


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_letter_queue', sqlite_where=_LETTER_QUEUED,
                            postgresql_where=_LETTER_QUEUED)
        batch_op.drop_index('ix_outbox_message_provider_message_id',
                            sqlite_where=_HAS_PROVIDER_ID, postgresql_where=_HAS_PROVIDER_ID)
        batch_op.create_index('ix_outbox_message_provider_message_id', ['provider_message_id'],
                              unique=False)
        batch_op.create_index('ix_outbox_message_due', ['status', 'due_at'], unique=False)
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_clinic_id', ['clinic_id'], unique=False)
