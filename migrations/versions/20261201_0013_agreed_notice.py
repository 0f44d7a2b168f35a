"""The notice that the notes from an appointment are ready, and the clinic's choice to ask by
SMS what the patient wants to talk about (issue 15).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.migration_helpers import set_enum_check

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_PURPOSES_BEFORE = ("reminder", "notice", "no_show", "reply", "push_test", "decision",
                    "feedback_invite", "feedback_reminder", "relative_added", "access_ended",
                    "invite_failed", "team_sheet", "transfer", "message", "staff_message")
_PURPOSES_AFTER = (*_PURPOSES_BEFORE, "agreed")


def upgrade() -> None:
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_AFTER)
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asks_before_appointment', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.drop_column('asks_before_appointment')
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_BEFORE)
