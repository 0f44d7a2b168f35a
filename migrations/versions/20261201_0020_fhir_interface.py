"""The record system's FHIR interface (issue 17): record systems as clients of a clinic (with
an account of the new role "system" for the access log), the record system's identifier and a
version on each appointment, and the reason an appointment was cancelled.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_ROLES_BEFORE = ("patient", "staff", "relative")
_ROLES_AFTER = (*_ROLES_BEFORE, "system")
_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive", "conversation", "observations", "export",
                   "crisis_plan", "goals", "ip_export", "meetings")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "access_log")


def upgrade() -> None:
    set_enum_check("user_account", "user_role", "role", _ROLES_AFTER)
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=32), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column('external_system', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.create_unique_constraint('uq_appointment_external',
                                          ['clinic_id', 'external_system', 'external_id'])
    op.create_table('system_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('disabled_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_system_client_clinic_id_clinic')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_system_client_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_system_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_system_client_client_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_system_client_user_id'))
    )
    with op.batch_alter_table('system_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_system_client_clinic_id'), ['clinic_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('system_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_system_client_clinic_id'))
    op.drop_table('system_client')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_constraint('uq_appointment_external', type_='unique')
        batch_op.drop_column('version')
        batch_op.drop_column('external_id')
        batch_op.drop_column('external_system')
        batch_op.drop_column('cancel_reason')
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
    set_enum_check("user_account", "user_role", "role", _ROLES_BEFORE)
