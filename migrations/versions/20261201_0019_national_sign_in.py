"""National sign-in (issue 16): a person's national identity number as a keyed hash, each
session's (and passkey's) method and assurance level, the level a clinic asks for messages
and take-home, and ID-porten sign-ins under way.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base
import server.sealing
from server.migration_helpers import set_enum_check

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


_METHODS_BEFORE = ("sms_code_request", "sms_code", "passkey", "password", "totp", "sign_out")
_METHODS_AFTER = (*_METHODS_BEFORE, "idporten", "helseid")


def upgrade() -> None:
    set_enum_check("sign_in_event", "sign_in_method", "method", _METHODS_AFTER)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pid_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('pid_masked', sa.String(length=16), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column('hpr_number', sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_pid_hash'), ['pid_hash'])
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16), nullable=False,
                                      server_default="sms_code"))
        batch_op.add_column(sa.Column('level', sa.String(length=32), nullable=False,
                                      server_default="low"))
        batch_op.add_column(sa.Column('oidc_sid', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('id_token', server.sealing.SealedString(length=4000),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_user_session_oidc_sid'), ['oidc_sid'], unique=False)
    with op.batch_alter_table('passkey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=32), nullable=False,
                                      server_default="low"))
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.add_column(sa.Column('messages_level', sa.String(length=32), nullable=False,
                                      server_default="low"))
        batch_op.add_column(sa.Column('take_home_level', sa.String(length=32), nullable=False,
                                      server_default="low"))
    op.create_table('oidc_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('request', server.sealing.SealedString(length=8000), nullable=False),
    sa.Column('next_path', server.sealing.SealedString(length=2000), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', server.models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_attempt')),
    sa.UniqueConstraint('state', name=op.f('uq_oidc_attempt_state'))
    )


def downgrade() -> None:
    set_enum_check("sign_in_event", "sign_in_method", "method", _METHODS_BEFORE)
    op.drop_table('oidc_attempt')
    with op.batch_alter_table('clinic', schema=None) as batch_op:
        batch_op.drop_column('take_home_level')
        batch_op.drop_column('messages_level')
    with op.batch_alter_table('passkey', schema=None) as batch_op:
        batch_op.drop_column('level')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_oidc_sid'))
        batch_op.drop_column('id_token')
        batch_op.drop_column('oidc_sid')
        batch_op.drop_column('level')
        batch_op.drop_column('method')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_pid_hash'), type_='unique')
        batch_op.drop_column('hpr_number')
        batch_op.drop_column('pid_masked')
        batch_op.drop_column('pid_hash')
