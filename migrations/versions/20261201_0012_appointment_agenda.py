"""Before my appointment (issue 15): what the patient wants to talk about, and what was
agreed afterwards.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 16:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointment_agenda',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('agreed', sa.JSON(), nullable=False),
    sa.Column('agreed_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('agreed_by_id', sa.Integer(), nullable=True),
    sa.Column('agreed_read_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agreed_by_id'], ['user_account.id'], name=op.f('fk_appointment_agenda_agreed_by_id_user_account')),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_appointment_agenda_appointment_id_appointment')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_appointment_agenda_patient_id_patient_profile')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment_agenda')),
    sa.UniqueConstraint('appointment_id', name=op.f('uq_appointment_agenda_appointment_id'))
    )
    with op.batch_alter_table('appointment_agenda', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointment_agenda_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appointment_agenda', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_agenda_patient_id'))

    op.drop_table('appointment_agenda')
