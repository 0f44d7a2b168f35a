"""The responsibility group (ansvarsgruppe): an appointment can be a meeting with participants
from the care team, and its minutes are linked to goals and measures (issue 15).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive", "conversation", "observations", "export",
                   "crisis_plan", "goals", "ip_export")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "meetings")


def upgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_team_meeting', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('appointment_agenda', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_links', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
    op.create_table('meeting_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('added_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_meeting_participant_added_by_id_user_account')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_meeting_participant_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_meeting_participant_member_id_team_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_participant')),
    sa.UniqueConstraint('appointment_id', 'member_id', name=op.f('uq_meeting_participant_appointment_id'))
    )
    with op.batch_alter_table('meeting_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_participant_appointment_id'), ['appointment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('meeting_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_participant_appointment_id'))
    op.drop_table('meeting_participant')
    with op.batch_alter_table('appointment_agenda', schema=None) as batch_op:
        batch_op.drop_column('agreed_links')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_column('is_team_meeting')
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
