"""Consent to share the goals with the municipality's IP coordinator (issue 15).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ip_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('recorded_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_ip_consent_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_ip_consent_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ip_consent'))
    )
    with op.batch_alter_table('ip_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ip_consent_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ip_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ip_consent_patient_id'))

    op.drop_table('ip_consent')
