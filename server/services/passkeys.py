"""Passkeys (WebAuthn) for patients and relatives: add one, sign in with one."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from server.extensions import db
from server.models import Passkey, Role, SignInMethod, SignInOutcome, User
from server.models.base import utcnow
from server.services import sign_in_log
from server.services.errors import DomainError

RP_NAME = "Følge"
MAX_PASSKEYS = 10


class PasskeyError(DomainError):
    """A passkey could not be added or used."""


def registration_options(user: User, rp_id: str) -> tuple[str, bytes]:
    """Options for ``navigator.credentials.create`` as JSON, and the challenge to keep."""
    existing = db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)).all()
    if len(existing) >= MAX_PASSKEYS:
        raise PasskeyError(_l("You already have %(n)d passkeys. Remove one first.",
                              n=MAX_PASSKEYS), "too_many")
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=f"folge-user-{user.id}".encode(),
        user_name=user.display_name,
        user_display_name=user.display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=p.credential_id) for p in existing],
    )
    return options_to_json(options), options.challenge


def finish_registration(
    user: User, credential: dict[str, Any], challenge: bytes, rp_id: str, origins: list[str],
    name: str, level: str = "low",
) -> Passkey:
    """Verify the new credential and store it. Commits."""
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(_l("The passkey could not be added. Try again."), "invalid") from exc
    taken = PasskeyError(_l("This passkey is already added to an account. Sign in with it, or "
                            "add another one."), "taken")
    if db.session.scalar(select(Passkey.id).where(
            Passkey.credential_id == verified.credential_id)) is not None:
        raise taken
    passkey = Passkey(
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name[:100],
        level=level,  # added in an ID-porten session: signs in at its level
    )
    db.session.add(passkey)
    try:
        db.session.commit()
    except IntegrityError:  # the same credential, added twice at once
        db.session.rollback()
        raise taken from None
    return passkey


def authentication_options(rp_id: str) -> tuple[str, bytes]:
    """Options for ``navigator.credentials.get`` (discoverable credentials)."""
    options = generate_authentication_options(
        rp_id=rp_id, user_verification=UserVerificationRequirement.PREFERRED
    )
    return options_to_json(options), options.challenge


def finish_authentication(
    credential: dict[str, Any], challenge: bytes, rp_id: str, origins: list[str]
) -> tuple[User, str]:
    """Verify a passkey assertion and return its active account and the passkey's level, or
    raise."""
    refused = PasskeyError(
        _l("This passkey could not be used. Sign in with a code by SMS instead."), "invalid"
    )
    try:
        raw_id = base64url_to_bytes(str(credential.get("rawId") or credential.get("id") or ""))
    except (ValueError, TypeError):
        raw_id = b""
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == raw_id)) if raw_id \
        else None
    if passkey is None:
        sign_in_log.record_now(SignInMethod.PASSKEY, SignInOutcome.FAILURE, None, "unknown")
        raise refused
    try:
        verified = verify_authentication_response(
            credential=json.dumps(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        sign_in_log.record_now(SignInMethod.PASSKEY, SignInOutcome.FAILURE, passkey.user_id,
                               "invalid")
        raise refused from None
    user = db.session.get(User, passkey.user_id)
    if user is None or user.disabled_at is not None or user.role is Role.STAFF:
        sign_in_log.record_now(SignInMethod.PASSKEY, SignInOutcome.FAILURE, passkey.user_id,
                               "not_allowed")
        raise refused
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = utcnow()
    sign_in_log.record_now(SignInMethod.PASSKEY, SignInOutcome.SUCCESS, user.id)
    return user, passkey.level


def list_for(user: User) -> list[Passkey]:
    """The user's passkeys, newest first."""
    return list(
        db.session.scalars(
            select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at.desc())
        )
    )


def remove(user: User, passkey_id: int) -> None:
    """Remove one of the user's own passkeys. Commits."""
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise PasskeyError(_l("That passkey was not found."), "not_found")
    db.session.delete(passkey)
    db.session.commit()
