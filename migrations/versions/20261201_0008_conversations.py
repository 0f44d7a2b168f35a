"""Conversations between a patient and the care team (messages, events, quick answers);
relatives' observations read and answered; staff email about waiting conversations.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:13:52.577508
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "conversation", "observations")
_PURPOSES_BEFORE = ("reminder", "notice", "no_show", "reply", "push_test", "decision",
                    "feedback_invite", "feedback_reminder", "relative_added", "access_ended",
                    "invite_failed", "team_sheet", "transfer")
_PURPOSES_AFTER = (*_PURPOSES_BEFORE, "message", "staff_message")


def upgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_AFTER)
    op.create_table('quick_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('archived_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_quick_answer_clinic_id_clinic')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_quick_answer_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quick_answer'))
    )
    with op.batch_alter_table('quick_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quick_answer_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.Enum('appointments', 'take_home', 'medication', 'practical', 'other', name='conversation_topic', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('status', sa.Enum('open', 'closed', name='conversation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('started_via', sa.Enum('app', 'sms', name='message_via', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_message_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('waiting_since', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['user_account.id'], name=op.f('fk_conversation_assigned_to_id_user_account')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_conversation_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_conversation_patient_id_patient_profile')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_assigned_to_id'), ['assigned_to_id'], unique=False)
        batch_op.create_index('ix_conversation_patient', ['patient_id', 'last_message_at'], unique=False)
        batch_op.create_index('ix_conversation_waiting', ['status', 'waiting_since'], unique=False)

    op.create_table('conversation_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('from_patient', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.Enum('text', 'called', name='message_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('via', sa.Enum('app', 'sms', name='message_via', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=True),
    sa.Column('inbound_sms_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('read_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('read_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_conversation_message_author_id_user_account')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conversation_message_conversation_id_conversation')),
    sa.ForeignKeyConstraint(['inbound_sms_id'], ['inbound_sms.id'], name=op.f('fk_conversation_message_inbound_sms_id_inbound_sms')),
    sa.ForeignKeyConstraint(['read_by_id'], ['user_account.id'], name=op.f('fk_conversation_message_read_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_message')),
    sa.UniqueConstraint('author_id', 'client_key', name='uq_conversation_message_client_key'),
    sa.UniqueConstraint('inbound_sms_id', name=op.f('uq_conversation_message_inbound_sms_id'))
    )
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_message_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('conversation_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('started', 'assigned', 'closed', 'reopened', 'withdrawn', name='conversation_event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('to_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_conversation_event_by_id_user_account')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_conversation_event_conversation_id_conversation')),
    sa.ForeignKeyConstraint(['message_id'], ['conversation_message.id'], name=op.f('fk_conversation_event_message_id_conversation_message')),
    sa.ForeignKeyConstraint(['to_id'], ['user_account.id'], name=op.f('fk_conversation_event_to_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_event'))
    )
    with op.batch_alter_table('conversation_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_event_conversation_id'), ['conversation_id'], unique=False)

    with op.batch_alter_table('relative_observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_at', server.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('read_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column('answered_at', server.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('answered_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_relative_observation_read_by_id_user_account'), 'user_account', ['read_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_relative_observation_answered_by_id_user_account'), 'user_account', ['answered_by_id'], ['id'])

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_messages_by_email', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('notify_messages_by_email')

    with op.batch_alter_table('relative_observation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_relative_observation_answered_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_relative_observation_read_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('answered_by_id')
        batch_op.drop_column('answered_at')
        batch_op.drop_column('answer')
        batch_op.drop_column('read_by_id')
        batch_op.drop_column('read_at')

    with op.batch_alter_table('conversation_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_event_conversation_id'))

    op.drop_table('conversation_event')
    with op.batch_alter_table('conversation_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_message_conversation_id'))

    op.drop_table('conversation_message')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_waiting')
        batch_op.drop_index('ix_conversation_patient')
        batch_op.drop_index(batch_op.f('ix_conversation_assigned_to_id'))

    op.drop_table('conversation')
    with op.batch_alter_table('quick_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quick_answer_clinic_id'))

    op.drop_table('quick_answer')
    op.execute("DELETE FROM outbox_message WHERE purpose IN ('message', 'staff_message')")
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_BEFORE)
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
