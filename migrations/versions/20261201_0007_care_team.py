"""The care team: members, areas, responsibilities, handovers, moves between clinics, the
clinic's contact settings, relatives' accesses paused by a move.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:22:35.739562
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "care_team", "transfer", "archive")
_PURPOSES_BEFORE = ("reminder", "notice", "no_show", "reply", "push_test", "decision",
                    "feedback_invite", "feedback_reminder", "relative_added", "access_ended",
                    "invite_failed")
_PURPOSES_AFTER = (*_PURPOSES_BEFORE, "team_sheet", "transfer")


def upgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_AFTER)
    op.create_table('clinic_area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('archived_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_clinic_area_clinic_id_clinic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_area'))
    )
    with op.batch_alter_table('clinic_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinic_area_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('external_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.Enum('clinic', 'gp', 'municipality', 'nav', 'psychiatry', 'other', name='team_service', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('archived_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('open_days', sa.JSON(), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=True),
    sa.Column('closes_at', sa.Time(), nullable=True),
    sa.Column('answers_within_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_external_contact_clinic_id_clinic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_contact'))
    )
    with op.batch_alter_table('external_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_contact_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('team_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.Enum('clinic', 'gp', 'municipality', 'nav', 'psychiatry', 'other', name='team_service', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('external_contact_id', sa.Integer(), nullable=True),
    sa.Column('role_text', sa.String(length=100), nullable=False),
    sa.Column('direct_phone', sa.String(length=32), nullable=False),
    sa.Column('visible_to_relatives', sa.Boolean(), nullable=False),
    sa.Column('added_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(staff_user_id IS NULL) <> (external_contact_id IS NULL)', name=op.f('ck_team_member_one_kind')),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_team_member_added_by_id_user_account')),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_team_member_clinic_id_clinic')),
    sa.ForeignKeyConstraint(['external_contact_id'], ['external_contact.id'], name=op.f('fk_team_member_external_contact_id_external_contact')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_team_member_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['user_account.id'], name=op.f('fk_team_member_removed_by_id_user_account')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['user_account.id'], name=op.f('fk_team_member_staff_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_member'))
    )
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_member_patient_id'), ['patient_id'], unique=False)

    op.create_table('transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('from_clinic_id', sa.Integer(), nullable=False),
    sa.Column('to_clinic_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'declined', 'withdrawn', name='transfer_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('proposed_date', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('consent_method', sa.Enum('in_person', 'phone', 'in_writing', name='consent_method', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('consent_on', sa.Date(), nullable=False),
    sa.Column('sending_contact_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('receiving_doctor_id', sa.Integer(), nullable=True),
    sa.Column('receiving_coordinator_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_transfer_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['from_clinic_id'], ['clinic.id'], name=op.f('fk_transfer_from_clinic_id_clinic')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_transfer_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_transfer_proposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['receiving_coordinator_id'], ['user_account.id'], name=op.f('fk_transfer_receiving_coordinator_id_user_account')),
    sa.ForeignKeyConstraint(['receiving_doctor_id'], ['user_account.id'], name=op.f('fk_transfer_receiving_doctor_id_user_account')),
    sa.ForeignKeyConstraint(['sending_contact_id'], ['user_account.id'], name=op.f('fk_transfer_sending_contact_id_user_account')),
    sa.ForeignKeyConstraint(['to_clinic_id'], ['clinic.id'], name=op.f('fk_transfer_to_clinic_id_clinic')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer'))
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_from_clinic_id'), ['from_clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_to_clinic_id'), ['to_clinic_id'], unique=False)
        batch_op.create_index('uq_transfer_open', ['patient_id'], unique=True, sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))

    op.create_table('handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('clinic_id', sa.Integer(), nullable=False),
    sa.Column('area_key', sa.String(length=40), nullable=False),
    sa.Column('from_member_id', sa.Integer(), nullable=False),
    sa.Column('to_member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'accepted', 'declined', 'withdrawn', name='handover_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('takes_effect_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('confirmed_how', sa.Enum('phone', 'meeting', 'in_writing', name='external_confirmation', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('escalated_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinic.id'], name=op.f('fk_handover_clinic_id_clinic')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_handover_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['from_member_id'], ['team_member.id'], name=op.f('fk_handover_from_member_id_team_member')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_handover_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_handover_proposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['to_member_id'], ['team_member.id'], name=op.f('fk_handover_to_member_id_team_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover'))
    )
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('uq_handover_open', ['patient_id', 'area_key'], unique=True, sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))

    op.create_table('responsibility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('area_key', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('since', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('until', server.models.base.UTCDateTime(), nullable=True),
    sa.Column('handover_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handover_id'], ['handover.id'], name=op.f('fk_responsibility_handover_id_handover')),
    sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_responsibility_member_id_team_member')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_responsibility_patient_id_patient_profile')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responsibility'))
    )
    with op.batch_alter_table('responsibility', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responsibility_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_responsibility_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('uq_responsibility_open', ['patient_id', 'area_key'], unique=True, sqlite_where=sa.text('until IS NULL'), postgresql_where=sa.text('until IS NULL'))

    op.create_table('team_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('member_added', 'member_removed', 'area_filled', 'handover_proposed', 'handover_accepted', 'handover_declined', 'handover_withdrawn', 'handover_escalated', 'transfer_proposed', 'transfer_accepted', 'transfer_declined', 'transfer_withdrawn', name='team_event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('by_user_id', sa.Integer(), nullable=True),
    sa.Column('at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('area_key', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('handover_id', sa.Integer(), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['by_user_id'], ['user_account.id'], name=op.f('fk_team_event_by_user_id_user_account')),
    sa.ForeignKeyConstraint(['handover_id'], ['handover.id'], name=op.f('fk_team_event_handover_id_handover')),
    sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_team_event_member_id_team_member')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient_profile.id'], name=op.f('fk_team_event_patient_id_patient_profile')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], name=op.f('fk_team_event_transfer_id_transfer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_event'))
    )
    with op.batch_alter_table('team_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_event_patient_id'), ['patient_id'], unique=False)

    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_back_days', sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column('crisis_line_name', sa.String(length=100), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column('crisis_line_phone', sa.String(length=32), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column('handover_escalation_days', sa.Integer(), nullable=False,
                                      server_default="7"))
        batch_op.add_column(sa.Column('open_days', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[0, 1, 2, 3, 4]'")))
        batch_op.add_column(sa.Column('opens_at', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('closes_at', sa.Time(), nullable=True))
        batch_op.add_column(sa.Column('answers_within_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('relative_access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', server.models.base.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('relative_access', schema=None) as batch_op:
        batch_op.drop_column('paused_at')

    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.drop_column('answers_within_days')
        batch_op.drop_column('closes_at')
        batch_op.drop_column('opens_at')
        batch_op.drop_column('open_days')
        batch_op.drop_column('handover_escalation_days')
        batch_op.drop_column('crisis_line_phone')
        batch_op.drop_column('crisis_line_name')
        batch_op.drop_column('call_back_days')

    with op.batch_alter_table('team_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_event_patient_id'))

    op.drop_table('team_event')
    with op.batch_alter_table('responsibility', schema=None) as batch_op:
        batch_op.drop_index('uq_responsibility_open', sqlite_where=sa.text('until IS NULL'), postgresql_where=sa.text('until IS NULL'))
        batch_op.drop_index(batch_op.f('ix_responsibility_patient_id'))
        batch_op.drop_index(batch_op.f('ix_responsibility_member_id'))

    op.drop_table('responsibility')
    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.drop_index('uq_handover_open', sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))
        batch_op.drop_index(batch_op.f('ix_handover_patient_id'))
        batch_op.drop_index(batch_op.f('ix_handover_clinic_id'))

    op.drop_table('handover')
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index('uq_transfer_open', sqlite_where=sa.text("status = 'proposed'"), postgresql_where=sa.text("status = 'proposed'"))
        batch_op.drop_index(batch_op.f('ix_transfer_to_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_patient_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_from_clinic_id'))

    op.drop_table('transfer')
    with op.batch_alter_table('team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_member_patient_id'))

    op.drop_table('team_member')
    with op.batch_alter_table('external_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_contact_clinic_id'))

    op.drop_table('external_contact')
    with op.batch_alter_table('clinic_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinic_area_clinic_id'))

    op.drop_table('clinic_area')
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_BEFORE)
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
