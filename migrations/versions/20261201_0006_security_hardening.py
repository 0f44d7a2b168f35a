"""Security hardening: pending staff sign-ins, shared sign-in codes, sealed TOTP seeds,
device names on sessions, access-log targets for names and accounts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:16:59.595133
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
from server.migration_helpers import set_enum_check

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "name", "account")


def _seal_existing_totp_secrets() -> None:
    """TOTP seeds were stored in plain text; seal them with FOLGE_DATA_KEY."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT user_id, secret FROM totp_secret")).all()
    if not rows:
        return
    from server.config import load_config
    from server.sealing import seal

    keys = load_config().data_keys
    for user_id, secret in rows:
        bind.execute(sa.text("UPDATE totp_secret SET secret = :s WHERE user_id = :u"),
                     {"s": seal(secret, keys), "u": user_id})


def upgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)
    op.create_table('staff_pending_sign_in',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('ended_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_staff_pending_sign_in_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_pending_sign_in'))
    )
    with op.batch_alter_table('staff_pending_sign_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_pending_sign_in_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('one_time_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_id', sa.String(length=43), nullable=True))
        batch_op.add_column(sa.Column('sent_count', sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column('last_sent_at', server.models.base.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_one_time_code_group_id'), ['group_id'], unique=False)
    op.execute("UPDATE one_time_code SET group_id = id")

    with op.batch_alter_table('totp_secret', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_tries', sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.alter_column('secret', existing_type=sa.VARCHAR(length=64),
                              type_=sa.String(length=255), existing_nullable=False)
    _seal_existing_totp_secrets()

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=100), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    # Sealed TOTP seeds stay sealed: a downgrade would need the plain seeds back, which
    # only the app (with FOLGE_DATA_KEY) can give. Re-enrol staff after a downgrade.
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('device')
    with op.batch_alter_table('totp_secret', schema=None) as batch_op:
        batch_op.drop_column('failed_tries')
    with op.batch_alter_table('one_time_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_one_time_code_group_id'))
        batch_op.drop_column('last_sent_at')
        batch_op.drop_column('sent_count')
        batch_op.drop_column('group_id')
    with op.batch_alter_table('staff_pending_sign_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_pending_sign_in_user_id'))
    op.drop_table('staff_pending_sign_in')
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
