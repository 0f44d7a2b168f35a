"""Goals, their measures and progress notes (issue 15).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 17:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive", "conversation", "observations", "export",
                   "crisis_plan")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "goals")


def upgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('suggested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_goal_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['suggested_by_id'], ['user_account.id'], name=op.f('fk_goal_suggested_by_id_user_account')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_goal_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_patient_id'), ['patient_id'], unique=False)

    op.create_table('goal_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_goal_measure_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], name=op.f('fk_goal_measure_goal_id_goal')),
    sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_goal_measure_member_id_team_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_measure'))
    )
    with op.batch_alter_table('goal_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_measure_goal_id'), ['goal_id'], unique=False)

    op.create_table('goal_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_goal_note_author_id_user_account')),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], name=op.f('fk_goal_note_goal_id_goal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_note'))
    )
    with op.batch_alter_table('goal_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_note_goal_id'), ['goal_id'], unique=False)



def downgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
    with op.batch_alter_table('goal_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_note_goal_id'))

    op.drop_table('goal_note')
    with op.batch_alter_table('goal_measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_measure_goal_id'))

    op.drop_table('goal_measure')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_patient_id'))

    op.drop_table('goal')
