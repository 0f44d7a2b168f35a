"""The crisis plan (issue 15): every save a version; reading it is access-logged.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 16:41:58
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive", "conversation", "observations", "export")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "crisis_plan")


def upgrade() -> None:
    op.create_table('crisis_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('shared_with_team', sa.Boolean(), nullable=False),
    sa.Column('saved_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_crisis_plan_version_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['saved_by_id'], ['user_account.id'], name=op.f('fk_crisis_plan_version_saved_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crisis_plan_version')),
    sa.UniqueConstraint('patient_id', 'version', name='one_per_number')
    )
    with op.batch_alter_table('crisis_plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crisis_plan_version_patient_id'), ['patient_id'], unique=False)
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)


def downgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
    with op.batch_alter_table('crisis_plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crisis_plan_version_patient_id'))

    op.drop_table('crisis_plan_version')
