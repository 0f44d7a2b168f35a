"""The patient's experience (issue 13): when a take-home decision was first read, and which
row an access-log entry is about.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive", "conversation", "observations")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "export")
_KINDS_BEFORE = ("outreach", "answer", "sms_stopped", "message_failed", "feedback_alert",
                 "relative_observation")
_KINDS_AFTER = (*_KINDS_BEFORE, "stopped_using")


def upgrade() -> None:
    with op.batch_alter_table('take_home_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_seen_at', server.models.base.UTCDateTime(),
                                      nullable=True))
    # Decisions made before this version are taken as read: home does not list them as new.
    op.execute("UPDATE take_home_request SET decision_seen_at = decided_at "
               "WHERE decided_at IS NOT NULL")
    # A plain ADD COLUMN (no table rebuild), so the append-only triggers stay on SQLite.
    op.add_column('access_log_entry', sa.Column('subject_id', sa.Integer(), nullable=True))
    # A patient's download of all their information, and "stopped using Følge" on the worklist.
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    set_enum_check("work_item", "work_kind", "kind", _KINDS_AFTER)


def downgrade() -> None:
    set_enum_check("work_item", "work_kind", "kind", _KINDS_BEFORE)
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
    with op.batch_alter_table('take_home_request', schema=None) as batch_op:
        batch_op.drop_column('decision_seen_at')
    op.drop_column('access_log_entry', 'subject_id')
