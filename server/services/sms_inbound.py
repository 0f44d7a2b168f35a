"""Two-way SMS: replies from patients, and delivery reports from the provider.

Each inbound SMS is stored once per provider message id (a repeated webhook
has no effect). A clear answer (see ``sms_replies``) is applied to the
appointment that the latest reminder to that number was about, or to the
latest check-in. Everything else from a patient's verified number (an unknown
word, a sentence, several wishes at once, an answer with nothing to apply it
to) is passed on to the care team as a message in a conversation
(``server/messages``), and the patient is told when to expect an answer:
nothing a patient writes is lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import (
    Channel,
    FeedbackInvitation,
    FeedbackVia,
    InboundSms,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientAnswer,
    PatientProfile,
    Role,
    User,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.services import appointments, feedback, instruments, outbox
from server.services.errors import DomainError
from server.services.phone_numbers import InvalidPhoneNumber, normalize_mobile
from server.services.sms_replies import ReplyIntent, parse_reply

#: Provider statuses that mean the SMS will never arrive.
FAILED_STATUSES = {"failed", "undelivered"}

#: The same sender and text again within this time, under another provider id, is taken as
#: a replayed webhook and not acted on (a person who sends "JA" twice means it once).
REPEAT_WINDOW = timedelta(minutes=10)

log = logging.getLogger("folge.sms")


def _patient_for(number: str) -> PatientProfile | None:
    try:
        phone = normalize_mobile(number)
    except InvalidPhoneNumber:
        return None
    user = db.session.scalar(select(User).where(User.phone == phone, User.role == Role.PATIENT))
    return user.patient_profile if user else None


def _latest_reminded_appointment(patient: PatientProfile) -> OutboxMessage | None:
    """The latest message sent by SMS to the patient about an appointment."""
    return db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.patient_id == patient.id,
               OutboxMessage.appointment_id.is_not(None),
               OutboxMessage.status == MessageStatus.SENT,
               OutboxMessage.sent_to == patient.user.phone)
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )


def _latest_sms(patient: PatientProfile) -> OutboxMessage | None:
    """The latest SMS we sent the patient that asked for an answer (not a reply of ours)."""
    return db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.patient_id == patient.id,
               OutboxMessage.purpose != MessagePurpose.REPLY,
               OutboxMessage.status == MessageStatus.SENT,
               OutboxMessage.sent_to == patient.user.phone)
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )


def _feedback_answer(patient: PatientProfile, latest: OutboxMessage, inbound: InboundSms) -> None:
    """A reply to a check-in SMS: one number (overall) or one per item. Goes to the care team."""
    invitation = db.session.get(FeedbackInvitation, (latest.params or {}).get("invitation_id"))
    instrument = instruments.latest(invitation.instrument_key) if invitation else None
    numbers = feedback.parse_scores(inbound.body)
    if invitation is None or instrument is None:
        _pass_on(patient, inbound, "feedback_no_invitation")
        return
    if numbers is None or len(numbers) not in (1, len(instrument.items)):
        _pass_on(patient, inbound, "feedback_unclear")
        return
    keys = [instrument.overall_item] if len(numbers) == 1 else instrument.item_keys
    try:
        feedback.submit(patient, feedback.Answer(
            instrument=instrument, scores=dict(zip(keys, numbers, strict=True)),
            invitation_id=invitation.id, via=FeedbackVia.SMS,
            client_key=f"sms:{inbound.provider_message_id}"[:64]))
    except feedback.FeedbackError:
        _pass_on(patient, inbound, "feedback_closed")
        return
    inbound.understood_as = "feedback"
    _reply(inbound, patient, "feedback_thanks")


#: What the reply to a passed-on SMS adds, by why it was not applied (see reply_passed_on).
_HINTS = {"feedback_unclear": "feedback_unclear", "feedback_no_invitation": "feedback_closed",
          "feedback_closed": "feedback_closed"}


def _pass_on(patient: PatientProfile, inbound: InboundSms, understood_as: str,
             latest: OutboxMessage | None = None) -> None:
    """Not a clear answer: a person reads it. The reply says when the team answers, and how
    to answer the latest reminder or check-in if that is what the patient meant."""
    from server.messages import conversations

    inbound.understood_as = understood_as
    message = conversations.from_sms(patient, inbound)
    since = message.conversation.waiting_since or utcnow()
    hint = _HINTS.get(understood_as, "")
    if understood_as.endswith(("_no_appointment", "_not_applied")):
        hint = "no_appointment"
    elif not hint and latest is not None and latest.appointment_id is not None:
        hint = "reminder"
    _reply(inbound, patient, "reply_passed_on", {
        "on_day": conversations.answer_by(patient.clinic, since).isoformat(), "hint": hint})


def _reply(inbound: InboundSms, patient: PatientProfile, template: str,
           params: dict[str, str] | None = None) -> None:
    outbox.enqueue(key=f"reply:{inbound.id}", purpose=MessagePurpose.REPLY, patient=patient,
                   template=template, channels=[Channel.SMS.value], params=params)


def _repeat_of(from_number: str, body: str) -> int | None:
    """The id of the same SMS (sender and text) received within REPEAT_WINDOW, if any."""
    return db.session.scalar(select(InboundSms.id).where(
        InboundSms.from_number == from_number, InboundSms.body == body,
        InboundSms.received_at >= utcnow() - REPEAT_WINDOW).limit(1))


def receive(provider_message_id: str, from_number: str, body: str) -> InboundSms | None:
    """Store and act on one inbound SMS. Returns None for a repeat (the same provider id,
    or the same sender and text within REPEAT_WINDOW). Commits."""
    from_number, body = from_number.replace("\x00", "")[:32], body.replace("\x00", "")[:1600]
    if db.session.scalar(select(InboundSms.id).where(
            InboundSms.provider_message_id == provider_message_id)):
        return None
    earlier = _repeat_of(from_number, body)
    if earlier is not None:
        log.warning("inbound SMS %s repeats SMS #%d from the same sender within %s; not acted on",
                    provider_message_id[:40], earlier, REPEAT_WINDOW)
        return None
    inbound = InboundSms(provider_message_id=provider_message_id, from_number=from_number,
                         body=body)
    db.session.add(inbound)
    try:
        db.session.flush()
    except IntegrityError:  # the same webhook, delivered twice at once
        db.session.rollback()
        return None
    patient = _patient_for(from_number)
    intent = parse_reply(body)
    inbound.understood_as = intent.value
    if patient is None:
        inbound.understood_as = "unknown_sender"  # no reply: never confirm who is a patient
        db.session.commit()
        return inbound
    inbound.patient_id = patient.id
    latest = _latest_sms(patient)
    if intent is ReplyIntent.STOP:
        _stop_sms(patient, inbound)
    elif intent is ReplyIntent.TEAM:
        from server.care_team.letters import team_reply_params

        _reply(inbound, patient, "reply_team", team_reply_params(patient))
    elif latest is not None and latest.purpose in feedback.FEEDBACK_PURPOSES and (
            feedback.parse_scores(body) is not None or intent is ReplyIntent.UNKNOWN):
        # Numbers answer the check-in; words such as JA or RING still answer appointments.
        _feedback_answer(patient, latest, inbound)
    elif intent is ReplyIntent.UNKNOWN and _topics_for_appointment(patient, latest, inbound):
        pass  # what the patient wants to talk about, for "before my appointment"
    elif intent is ReplyIntent.UNKNOWN:
        _pass_on(patient, inbound, "passed_on", latest)
    else:
        _apply(intent, patient, inbound)
    db.session.commit()
    return inbound


def _topics_for_appointment(patient: PatientProfile, latest: OutboxMessage | None,
                            inbound: InboundSms) -> bool:
    """A sentence in answer to a reminder that invited one ("reply with what you want to talk
    about") goes to that appointment's "before my appointment", not to the inbox. False when
    the latest SMS was not such a reminder or the appointment has begun."""
    from server.plans import agenda

    if latest is None or latest.purpose is not MessagePurpose.REMINDER or \
            not (latest.params or {}).get("ask_topics") or latest.appointment is None:
        return False
    appointment = latest.appointment
    if not agenda.may_ask(appointment):
        return False
    earlier = agenda.for_appointment(appointment)
    text = inbound.body.strip()
    if earlier is not None and earlier.text and earlier.via == "sms":
        text = f"{earlier.text}\n{text}"  # a second SMS adds to the first, nothing is lost
    try:
        agenda.save_wishes(appointment, list(earlier.topics) if earlier else [],
                           text[:agenda.TEXT_MAX], via="sms")
    except DomainError:
        return False
    inbound.understood_as = "topics"
    inbound.appointment_id = appointment.id
    _reply(inbound, patient, "reply_topics")
    return True


def _stop_sms(patient: PatientProfile, inbound: InboundSms) -> None:
    patient.contact_channels = [c for c in patient.contact_channels if c != Channel.SMS.value]
    db.session.add(WorkItem(clinic_id=patient.clinic_id, patient_id=patient.id,
                            kind=WorkKind.SMS_STOPPED,
                            details={"channels_left": patient.contact_channels}))
    _reply(inbound, patient, "reply_stop")


def _apply(intent: ReplyIntent, patient: PatientProfile, inbound: InboundSms) -> None:
    latest = _latest_reminded_appointment(patient)
    appointment = latest.appointment if latest else None
    if appointment is None or appointment.is_cancelled or appointment.starts_at <= utcnow():
        _pass_on(patient, inbound, f"{intent.value}_no_appointment")
        return
    inbound.appointment_id = appointment.id
    choice = {ReplyIntent.CONFIRM: PatientAnswer.CONFIRMED,
              ReplyIntent.CANCEL: PatientAnswer.CANNOT_COME}.get(intent, appointment.answer)
    try:
        appointments.answer(appointment, choice, call_me=intent is ReplyIntent.CALL_ME or
                            appointment.call_me, via="sms", commit=False)
    except DomainError:
        _pass_on(patient, inbound, f"{intent.value}_not_applied")
        return
    template = {ReplyIntent.CONFIRM: "reply_confirm", ReplyIntent.CANCEL: "reply_cancel",
                ReplyIntent.CALL_ME: "reply_call"}[intent]
    _reply(inbound, patient, template)


def delivery_report(provider_message_id: str, status: str) -> bool:
    """Record the provider's delivery status; a failed SMS moves on to the next channel.
    Returns False when the message is unknown. Commits."""
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.provider_message_id == provider_message_id))
    if message is None:
        return False
    status = status.strip().lower()[:32]
    message.delivery_status = status
    if status in FAILED_STATUSES and message.status is MessageStatus.SENT and \
            message.channel == Channel.SMS.value:
        message.note(f"provider_{status}")
        message.next_channel()
        message.status = MessageStatus.PENDING
        message.due_at = utcnow()
    db.session.commit()
    return True
