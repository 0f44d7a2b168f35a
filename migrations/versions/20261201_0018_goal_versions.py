"""Goals, "what we agreed" and minutes are versioned: a change counter against edits at once,
and the history of who changed what (issue 15).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False,
                                      server_default=sa.text("1")))
    with op.batch_alter_table('appointment_agenda', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_version', sa.Integer(), nullable=False,
                                      server_default=sa.text("0")))
        batch_op.add_column(sa.Column('agreed_history', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
    op.create_table('goal_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('at', server.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_goal_event_by_id_user_account')),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], name=op.f('fk_goal_event_goal_id_goal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_event'))
    )
    with op.batch_alter_table('goal_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_event_goal_id'), ['goal_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('goal_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_event_goal_id'))
    op.drop_table('goal_event')
    with op.batch_alter_table('appointment_agenda', schema=None) as batch_op:
        batch_op.drop_column('agreed_history')
        batch_op.drop_column('agreed_version')
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_column('version')
