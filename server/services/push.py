"""Web push on a patient's phones: subscribe, unsubscribe, send a test."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.models import MessagePurpose, PatientProfile, PushSubscription, User
from server.models.base import utcnow
from server.notify.push_endpoints import endpoint_allowed
from server.services import outbox
from server.services.errors import DomainError


class PushError(DomainError):
    """A subscription that cannot be stored."""


class EndpointTaken(PushError):
    """The browser's endpoint is already another account's: the page makes a new one."""


def subscribe(user: User, data: Any, label: str = "") -> PushSubscription:
    """Store (or refresh) this phone's subscription. Commits.

    An endpoint has one owner. One that belongs to another account is never moved
    (that would let anyone who learns an endpoint take another person's notifications
    away): EndpointTaken is raised, and the page asks the browser for a new endpoint.
    """
    try:
        endpoint = data["endpoint"]
        p256dh = data["keys"]["p256dh"]
        auth = data["keys"]["auth"]
    except (KeyError, TypeError, IndexError):
        raise PushError(_l("Notifications could not be turned on. Try again."), "format") from None
    if not all(isinstance(v, str) for v in (endpoint, p256dh, auth)) or len(endpoint) > 1000 \
            or not (20 <= len(p256dh) <= 200) or not (10 <= len(auth) <= 100) \
            or "\x00" in endpoint + p256dh + auth:
        raise PushError(_l("Notifications could not be turned on. Try again."), "format")
    config = current_app.config["FOLGE"]
    if not endpoint_allowed(endpoint, config.push_hosts, config.push_allow_loopback):
        raise PushError(_l("Notifications could not be turned on. Try again."), "endpoint")
    subscription = db.session.scalar(select(PushSubscription).where(
        PushSubscription.endpoint == endpoint))
    if subscription is not None and subscription.user_id != user.id:
        raise EndpointTaken(_l("Notifications could not be turned on. Try again."), "taken")
    if subscription is None:
        subscription = PushSubscription(endpoint=endpoint, user_id=user.id)
        db.session.add(subscription)
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
