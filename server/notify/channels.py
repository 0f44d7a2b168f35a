"""Deliver one outbox message on one channel: push, SMS, letter, or (staff only) email.

Each function raises from the one error hierarchy in ``notify.errors``:
``ChannelUnavailable`` when the person lacks the channel (no phone, no
subscription, no address), a permanent error when the channel refused for
good, a temporary error when trying again later may work.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from server.extensions import db
from server.links import public_url
from server.models import Channel, MessagePurpose, OutboxMessage, PushSubscription
from server.models.base import utcnow
from server.notify import sms, texts
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError


class ChannelUnavailable(PermanentDeliveryError):
    """The person has no way to receive on this channel."""


@dataclass(frozen=True)
class Delivered:
    provider_id: str
    sent_to: str
    #: True when the message now waits in the letter queue rather than being sent.
    queued_letter: bool = False


def _send_push(message: OutboxMessage, key: str) -> Delivered:
    from server.notify import webpush

    subscriptions = db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == message.receiver.id,
                                       PushSubscription.active.is_(True))
    ).all()
    if not subscriptions:
        raise ChannelUnavailable("no push subscription")
    text = texts.render_message(message, Channel.PUSH.value)
    url = "/relative/" if message.recipient_user_id else "/me/appointments"
    if message.purpose is MessagePurpose.MESSAGE:
        url = "/me/messages/"
    payload = {"title": text.title, "body": text.body, "url": url}
    delivered: list[str] = []
    temporary: TemporaryDeliveryError | None = None
    for subscription in subscriptions:
        if subscription.user_id != message.receiver.id:
            continue  # one owner per endpoint, checked again at the moment of sending
        try:
            delivered.append(webpush.send(subscription, payload, topic=None))
            subscription.last_success_at = utcnow()
        except webpush.SubscriptionGone:
            db.session.delete(subscription)  # expired: the phone will not get it anyway
        except TemporaryDeliveryError as exc:
            temporary = exc
        except PermanentDeliveryError:
            continue
    if delivered:
        return Delivered(provider_id=delivered[0], sent_to=f"push:{len(delivered)}")
    if temporary is not None:
        raise temporary
    raise ChannelUnavailable("every push subscription failed or expired")


def _send_sms(message: OutboxMessage, key: str) -> Delivered:
    user = message.receiver
    if not user.phone or user.phone_verified_at is None:
        raise ChannelUnavailable("no verified mobile number")
    if message.recipient_user_id is None and message.purpose is not MessagePurpose.REPLY and \
            Channel.SMS.value not in message.patient.contact_channels:
        raise ChannelUnavailable("the patient turned SMS off (STOPP)")
    text = texts.render_message(message, Channel.SMS.value)
    sent = sms.provider().send(user.phone, text.body, idempotency_key=key,
                               status_callback=public_url("webhooks.status"))
    return Delivered(provider_id=sent.provider_id, sent_to=user.phone)


def _queue_letter(message: OutboxMessage, key: str) -> Delivered:
    if not message.patient.postal_address.strip():
        raise ChannelUnavailable("no postal address")
    return Delivered(provider_id="", sent_to="letter", queued_letter=True)


#: Not a patient's channel (Channel): staff who asked for it get an email about a waiting
#: conversation, without a name or a word of it.
EMAIL = "email"


def _send_email(message: OutboxMessage, key: str) -> Delivered:
    from server.notify import email

    user = message.receiver
    if message.recipient_user_id is None or not user.email:
        raise ChannelUnavailable("no email address")
    subject, _, body = texts.render(message.template, EMAIL, message.params,
                                    user.language, keep_lines=True).body.partition("\n")
    email.provider().send(user.email, subject.strip(), body.strip())
    return Delivered(provider_id="", sent_to=user.email)


SENDERS = {
    Channel.PUSH.value: _send_push,
    Channel.SMS.value: _send_sms,
    Channel.LETTER.value: _queue_letter,
    EMAIL: _send_email,
}


def deliver(message: OutboxMessage, channel: str) -> Delivered:
    """Deliver ``message`` on ``channel`` with a per-channel idempotency key."""
    sender = SENDERS.get(channel)
    if sender is None:
        raise ChannelUnavailable(f"unknown channel {channel}")
    return sender(message, f"{message.idempotency_key}:{channel}")
