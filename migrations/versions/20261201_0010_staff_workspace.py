"""The staff workspace (issue 14): who has taken a worklist item, when it is due, its
history, and the indexes Today and the worklist filters read by.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 15:46:53
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('work_item_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('assigned', 'updated', 'done', 'reopened', name='work_event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], name=op.f('fk_work_item_event_assignee_id_user_account')),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_work_item_event_by_id_user_account')),
    sa.ForeignKeyConstraint(['item_id'], ['work_item.id'], name=op.f('fk_work_item_event_item_id_work_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_item_event'))
    )
    with op.batch_alter_table('work_item_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_item_event_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_clinic_start', ['clinic_id', 'starts_at'], unique=False)

    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('due_at', server.models.base.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_work_item_assignee', ['assigned_to_id', 'status'], unique=False)
        batch_op.create_index('ix_work_item_due', ['clinic_id', 'status', 'due_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_work_item_assigned_to_id_user_account'), 'user_account', ['assigned_to_id'], ['id'])
    # Items from before this version are due when they came in: they sort first.
    op.execute("UPDATE work_item SET due_at = created_at WHERE due_at IS NULL")



def downgrade() -> None:
    with op.batch_alter_table('work_item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_work_item_assigned_to_id_user_account'), type_='foreignkey')
        batch_op.drop_index('ix_work_item_due')
        batch_op.drop_index('ix_work_item_assignee')
        batch_op.drop_column('due_at')
        batch_op.drop_column('assigned_to_id')

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_clinic_start')

    with op.batch_alter_table('work_item_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_item_event_item_id'))

    op.drop_table('work_item_event')
