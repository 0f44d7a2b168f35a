"""Web push on a patient's phones: subscribe, unsubscribe, send a test."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.models import MessagePurpose, PatientProfile, PushSubscription, User
from server.models.base import utcnow
from server.services import outbox
from server.services.errors import DomainError


class PushError(DomainError):
    """A subscription that cannot be stored."""


def _endpoint_allowed(endpoint: str) -> bool:
    """Only https push services on public host names; never our own network.

    The server posts to whatever endpoint a browser registered, so a private or
    loopback address would let a user make the server call into the network.
    Tests may allow local receivers with ``app.config["PUSH_ALLOW_LOCAL"]``.
    """
    parts = urlsplit(endpoint)
    if current_app.config.get("PUSH_ALLOW_LOCAL") and parts.hostname in ("127.0.0.1", "localhost"):
        return parts.scheme in ("http", "https")
    if parts.scheme != "https" or not parts.hostname:
        return False
    try:
        ipaddress.ip_address(parts.hostname)
    except ValueError:
        return parts.hostname != "localhost" and "." in parts.hostname
    return False


def subscribe(user: User, data: Any, label: str = "") -> PushSubscription:
    """Store (or refresh) this phone's subscription. Commits."""
    try:
        endpoint = str(data["endpoint"])
        p256dh = str(data["keys"]["p256dh"])
        auth = str(data["keys"]["auth"])
    except (KeyError, TypeError):
        raise PushError(_l("Notifications could not be turned on. Try again."), "format") from None
    if len(endpoint) > 1000 or not (20 <= len(p256dh) <= 200) or not (10 <= len(auth) <= 100):
        raise PushError(_l("Notifications could not be turned on. Try again."), "format")
    if not _endpoint_allowed(endpoint):
        raise PushError(_l("Notifications could not be turned on. Try again."), "endpoint")
    subscription = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint))
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, user_id=user.id)
        db.session.add(subscription)
    subscription.user_id = user.id
    subscription.p256dh = p256dh
    subscription.auth = auth
    subscription.active = True
    subscription.label = label[:100]
    db.session.commit()
    return subscription


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget this phone's subscription. Commits; True when one was removed."""
    subscription = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id))
    if subscription is None:
        return False
    db.session.delete(subscription)
    db.session.commit()
    return True


def subscriptions_of(user: User) -> list[PushSubscription]:
    return list(db.session.scalars(select(PushSubscription).where(
        PushSubscription.user_id == user.id, PushSubscription.active.is_(True))))


def send_test(patient: PatientProfile) -> bool:
    """Queue a test notification to every phone of the patient. Commits."""
    if not subscriptions_of(patient.user):
        raise PushError(_l("Turn on notifications on this phone first."), "none")
    message = outbox.enqueue(
        key=f"push_test:{patient.id}:{utcnow().timestamp():.0f}", purpose=MessagePurpose.PUSH_TEST,
        patient=patient, template="push_test",
    )
    db.session.commit()
    return message is not None
