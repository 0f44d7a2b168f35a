"""Conversations between a patient and their care team.

The rules, kept here and nowhere else:

* **Nothing is lost.** A patient's message is stored once per client key (the
  app's offline queue may post it twice) and once per SMS (provider id, see
  ``from_sms``). Every inbound SMS that is not applied as a clear answer
  becomes a message here. Nothing is deleted: a message sent by mistake is
  withdrawn by its author within ``WITHDRAW_MINUTES`` while unread, and is
  then shown as withdrawn.
* **Someone owns it.** A new conversation is assigned to the patient's
  coordinator (the staff member holding the coordinator area of the care
  team), else left for the clinic's inbox as unassigned. Staff may reassign.
* **A promised answer time.** The clinic's answer time
  (``Clinic.answers_within_days``, the one the team page shows, default
  ``DEFAULT_ANSWER_DAYS``) counts working days from the first unanswered
  patient message; past it the conversation is overdue and on the worklist.
* **Discreet notifications.** The patient is told "You have a new message in
  Følge" by push and SMS; the SMS carries the staff text itself only for a
  patient who talks to us by SMS (see ``texts_by_sms``), at most
  ``SMS_MAX_SEGMENTS`` segments. Staff may get an email without names or text.
* **No automatic anything from content.** Nothing here reads what was written.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from server.care_team import areas, team
from server.care_team.models import Responsibility, TeamMember
from server.care_team.team import add_working_days
from server.extensions import db
from server.forms.base import without_control_characters
from server.messages.models import (
    Conversation,
    ConversationEvent,
    ConversationEventKind,
    ConversationMessage,
    ConversationStatus,
    MessageKind,
    MessageVia,
    QuickAnswer,
    Topic,
)
from server.models import (
    Channel,
    Clinic,
    InboundSms,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    Role,
    StaffMembership,
    User,
)
from server.models.base import utcnow
from server.services import outbox
from server.services.errors import DomainError

#: What a person may write in the app (the form says so); an SMS is kept as it arrives.
TEXT_MAX = 2000
#: A message sent by mistake can be withdrawn by its author this long, while unread.
WITHDRAW_MINUTES = 5
#: The answer time when the clinic has not set one (working days).
DEFAULT_ANSWER_DAYS = 2
#: An SMS answer longer than this many segments is replaced by "open Følge or call us".
SMS_MAX_SEGMENTS = 3
#: An SMS from a patient joins their open conversation if it moved this recently.
SMS_JOINS_WITHIN = timedelta(days=14)
QUICK_TITLE_MAX = 80
#: The length of the client key column.
CLIENT_KEY_MAX = 64

OSLO = ZoneInfo("Europe/Oslo")


class MessageError(DomainError):
    """A message or a change that cannot be made; the message says why."""


# --- small pieces ------------------------------------------------------------------------------

def clean(text: str) -> str:
    """The text as stored: control characters removed, line ends made plain, trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return without_control_characters(text).strip()


def _checked(text: str, limit: int = TEXT_MAX) -> str:
    if "\x00" in text:
        raise MessageError(_l("This contains a character that cannot be saved. Remove it and "
                              "try again."), "nul", "body")
    text = clean(text)
    if not text:
        raise MessageError(_l("Write your message first."), "empty", "body")
    if len(text) > limit:
        raise MessageError(_l("Please keep it under %(max)d characters (now %(n)d).",
                              max=limit, n=len(text)), "too_long", "body")
    return text


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` takes: GSM 03.38 (7-bit, an extension character counts
    twice) when every character is in that alphabet, else UCS-2 (UTF-16 code units)."""
    try:
        septets = len(text.encode("gsm03.38"))
    except UnicodeEncodeError:
        units = len(text.encode("utf-16-le")) // 2
        return 1 if units <= 70 else math.ceil(units / 67)
    return 1 if septets <= 160 else math.ceil(septets / 153)


def answer_days(clinic: Clinic) -> int:
    days = clinic.answers_within_days
    return DEFAULT_ANSWER_DAYS if days is None else days


def answer_by(clinic: Clinic, since: datetime) -> date:
    """The last day the team promises to answer a message that came at ``since``."""
    return answer_by_day(clinic, since.astimezone(ZoneInfo(clinic.timezone or
                                                           "Europe/Oslo")).date())


def _today(clinic: Clinic, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(clinic.timezone or "Europe/Oslo")).date()


def is_overdue(conversation: Conversation, now: datetime | None = None) -> bool:
    """Waiting past the answer day: today is later than ``answer_by``."""
    since = conversation.waiting_since
    return since is not None and since < overdue_cutoff(conversation.patient.clinic, now)


def overdue_cutoff(clinic: Clinic, now: datetime | None = None) -> datetime:
    """The moment before which a waiting message is overdue today: the start (in the
    clinic's time) of the day after the last arrival day whose answer day has passed.
    ``answer_by`` grows with the arrival day, so this is exact, and overdue becomes a plain
    comparison the database can do (tests/test_messages.py checks it against answer_by)."""
    today = _today(clinic, now)
    day = today - timedelta(days=1)
    while answer_by_day(clinic, day) >= today:
        day -= timedelta(days=1)
    zone = ZoneInfo(clinic.timezone or "Europe/Oslo")
    return datetime.combine(day + timedelta(days=1), dt_time(0), tzinfo=zone).astimezone(UTC)


def answer_by_day(clinic: Clinic, arrived: date) -> date:
    return add_working_days(arrived, answer_days(clinic))


def default_assignee(patient: PatientProfile) -> User | None:
    """The staff member holding the coordinator area of the patient's team, if any, and
    only while they work at the patient's current clinic."""
    now = utcnow()
    user = db.session.scalar(
        select(User).join(TeamMember, TeamMember.staff_user_id == User.id)
        .join(Responsibility, Responsibility.member_id == TeamMember.id)
        .join(StaffMembership, and_(StaffMembership.user_id == User.id,
                                    StaffMembership.clinic_id == patient.clinic_id))
        .where(Responsibility.patient_id == patient.id,
               Responsibility.area_key == areas.COORDINATOR,
               Responsibility.since <= now,
               or_(Responsibility.until.is_(None), Responsibility.until > now),
               TeamMember.removed_at.is_(None), User.disabled_at.is_(None))
        .limit(1))
    return user


def _event(conversation: Conversation, kind: ConversationEventKind, by: User | None,
           to: User | None = None, message: ConversationMessage | None = None) -> None:
    db.session.add(ConversationEvent(conversation_id=conversation.id, kind=kind,
                                     by_id=by.id if by else None, to_id=to.id if to else None,
                                     message_id=message.id if message else None))


# --- reading -----------------------------------------------------------------------------------

def for_patient(patient: PatientProfile) -> list[Conversation]:
    """The patient's conversations, open ones first, latest first."""
    return list(db.session.scalars(
        select(Conversation).where(Conversation.patient_id == patient.id)
        .order_by((Conversation.status == ConversationStatus.OPEN).desc(),
                  Conversation.last_message_at.desc(), Conversation.id.desc())))


def unread_by_patient(patient_id: int) -> list[ColumnElement[bool]]:
    """The conditions on ConversationMessage (joined to Conversation) for answers from the
    team the patient has not opened yet; home counts them in its one summary query."""
    return [Conversation.patient_id == patient_id, ConversationMessage.from_patient.is_(False),
            ConversationMessage.read_at.is_(None), ConversationMessage.withdrawn_at.is_(None)]


def existing(author: User, client_key: str | None) -> ConversationMessage | None:
    if not client_key:
        return None
    return db.session.scalar(select(ConversationMessage).where(
        ConversationMessage.author_id == author.id, ConversationMessage.client_key == client_key))


@dataclass(frozen=True)
class MessageState:
    """What the patient sees under their own message."""

    read_at: datetime | None
    answered: bool


def states(conversation: Conversation) -> dict[int, MessageState]:
    """For each message of the patient: read by the team (when), answered or not."""
    result: dict[int, MessageState] = {}
    answered_after: datetime | None = None
    for message in reversed(conversation.messages):
        if not message.from_patient and message.withdrawn_at is None and answered_after is None:
            answered_after = message.created_at
        if message.from_patient:
            result[message.id] = MessageState(
                read_at=message.read_at,
                answered=answered_after is not None and answered_after >= message.created_at)
    return result


def may_withdraw(message: ConversationMessage, user: User, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (message.author_id == user.id and message.withdrawn_at is None
            and message.read_at is None and message.via is MessageVia.APP
            and now - message.created_at <= timedelta(minutes=WITHDRAW_MINUTES))


# --- the patient writes --------------------------------------------------------------------------

def _add_patient_message(conversation: Conversation, patient: PatientProfile, body: str,
                         via: MessageVia, client_key: str | None,
                         inbound: InboundSms | None) -> ConversationMessage:
    now = utcnow()
    message = ConversationMessage(conversation=conversation, author_id=patient.user_id,
                                  from_patient=True, via=via, body=body,
                                  client_key=client_key or None,
                                  inbound_sms_id=inbound.id if inbound else None,
                                  created_at=now)
    db.session.add(message)
    if conversation.status is ConversationStatus.CLOSED:
        conversation.status, conversation.closed_at, conversation.closed_by_id = (
            ConversationStatus.OPEN, None, None)
        db.session.flush()
        _event(conversation, ConversationEventKind.REOPENED, patient.user)
    if conversation.waiting_since is None:
        conversation.waiting_since = now
    conversation.last_message_at = now
    db.session.flush()
    _tell_staff(conversation)
    return message


def _new_conversation(patient: PatientProfile, topic: Topic | None,
                      via: MessageVia) -> Conversation:
    assignee = default_assignee(patient)
    conversation = Conversation(patient_id=patient.id, patient=patient, topic=topic,
                                started_via=via, assigned_to_id=assignee.id if assignee else None,
                                status=ConversationStatus.OPEN)
    db.session.add(conversation)
    db.session.flush()
    _event(conversation, ConversationEventKind.STARTED, patient.user)
    if assignee is not None:
        _event(conversation, ConversationEventKind.ASSIGNED, None, to=assignee)
    return conversation


def start(patient: PatientProfile, body: str, topic: Topic | None,
          client_key: str) -> ConversationMessage:
    """A new conversation from the app. Returns the stored message; the same client key
    again returns the first one instead of a second. Commits."""
    text, key = _checked(body), _usable_key(client_key)

    def build() -> ConversationMessage:
        conversation = _new_conversation(patient, topic, MessageVia.APP)
        return _add_patient_message(conversation, patient, text, MessageVia.APP, key, None)

    return _once(patient.user, key, build)


def write(conversation: Conversation, patient: PatientProfile, body: str,
          client_key: str) -> ConversationMessage:
    """The patient writes again in a conversation (a closed one opens again). Commits."""
    text, key = _checked(body), _usable_key(client_key)
    return _once(patient.user, key, lambda: _add_patient_message(
        conversation, patient, text, MessageVia.APP, key, None))


def _usable_key(client_key: str) -> str | None:
    """The form's key, or None for a missing or overlong one (only a crafted request sends
    that): the message is then stored without one rather than refused."""
    return client_key if 0 < len(client_key) <= CLIENT_KEY_MAX else None


def _once(author: User, client_key: str | None,
          build: Callable[[], ConversationMessage]) -> ConversationMessage:
    """Store what ``build`` makes unless the author's client key is stored already; two
    at once (the offline queue racing a tap) meet the unique key, and the loser returns
    the winner's message."""
    found = existing(author, client_key) if client_key else None
    if found is not None:
        return found
    try:
        message = build()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        found = existing(author, client_key) if client_key else None
        if found is None:
            raise
        return found
    return message


def from_sms(patient: PatientProfile, inbound: InboundSms) -> ConversationMessage:
    """An SMS that was not a clear answer: it joins the patient's open conversation that
    moved within ``SMS_JOINS_WITHIN``, else it starts one. The caller commits."""
    text = clean(inbound.body.replace("\x00", "")) or "…"
    conversation = db.session.scalar(
        select(Conversation).where(Conversation.patient_id == patient.id,
                                   Conversation.status == ConversationStatus.OPEN,
                                   Conversation.last_message_at >= utcnow() - SMS_JOINS_WITHIN)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(1))
    if conversation is None:
        conversation = _new_conversation(patient, None, MessageVia.SMS)
    return _add_patient_message(conversation, patient, text, MessageVia.SMS, None, inbound)


# --- the team answers ----------------------------------------------------------------------------

def texts_by_sms(conversation: Conversation) -> bool:
    """Whether the team's answer goes out as SMS text: the patient wrote this conversation's
    latest message by SMS, or SMS is the first way they chose to be reached."""
    latest = next((m for m in reversed(conversation.messages) if m.from_patient), None)
    patient = conversation.patient
    if latest is not None:
        return latest.via is MessageVia.SMS
    return bool(patient.contact_channels) and patient.contact_channels[0] == Channel.SMS.value


def _tell_patient(conversation: Conversation, message: ConversationMessage) -> None:
    outbox.enqueue(key=f"message:{message.id}", purpose=MessagePurpose.MESSAGE,
                   patient=conversation.patient, template="message",
                   params={"message_id": message.id, "conversation_id": conversation.id,
                           "as_text": texts_by_sms(conversation)})


def _tell_staff(conversation: Conversation) -> None:
    """An email to the assignee who asked for one: once per wait, never a name or a text."""
    assignee = conversation.assigned_to if conversation.assigned_to_id else None
    if assignee is None or not assignee.notify_messages_by_email or not assignee.email:
        return
    since = conversation.waiting_since or utcnow()
    outbox.enqueue(key=f"staff-message:{conversation.id}:{since.isoformat()}",
                   purpose=MessagePurpose.STAFF_MESSAGE, patient=conversation.patient,
                   template="staff_message", channels=["email"],
                   recipient_user_id=assignee.id)


def _answered(conversation: Conversation, now: datetime) -> None:
    conversation.waiting_since = None
    conversation.last_message_at = now


def answer(conversation: Conversation, staff: User, body: str) -> ConversationMessage:
    """A staff member answers; the patient is told by their channels. Commits."""
    text = _checked(body)
    now = utcnow()
    message = ConversationMessage(conversation=conversation, author_id=staff.id,
                                  from_patient=False, via=MessageVia.APP, body=text,
                                  created_at=now)
    db.session.add(message)
    _answered(conversation, now)
    if conversation.status is ConversationStatus.CLOSED:
        conversation.status, conversation.closed_at, conversation.closed_by_id = (
            ConversationStatus.OPEN, None, None)
        _event(conversation, ConversationEventKind.REOPENED, staff)
    db.session.flush()
    _tell_patient(conversation, message)
    db.session.commit()
    return message


def start_by_staff(patient: PatientProfile, staff: User, body: str,
                   topic: Topic | None) -> ConversationMessage:
    """The team writes first (to a letter patient, or to follow something up): a new
    conversation assigned to the writer, answered until the patient writes. Commits."""
    text = _checked(body)
    conversation = Conversation(patient_id=patient.id, patient=patient, topic=topic,
                                started_via=MessageVia.APP, assigned_to_id=staff.id,
                                status=ConversationStatus.OPEN)
    db.session.add(conversation)
    db.session.flush()
    _event(conversation, ConversationEventKind.STARTED, staff)
    _event(conversation, ConversationEventKind.ASSIGNED, staff, to=staff)
    return answer(conversation, staff, text)


def called(conversation: Conversation, staff: User, note: str) -> ConversationMessage:
    """"I have called the patient": counts as the answer, without a written one. The optional
    note is for the record; the patient reads "The team called you". Commits."""
    if "\x00" in note:
        raise MessageError(_l("This contains a character that cannot be saved. Remove it and "
                              "try again."), "nul", "note")
    text = clean(note)
    if len(text) > 500:
        raise MessageError(_l("Please keep it under %(max)d characters (now %(n)d).",
                              max=500, n=len(text)), "too_long", "note")
    now = utcnow()
    message = ConversationMessage(conversation=conversation, author_id=staff.id,
                                  from_patient=False, via=MessageVia.APP, body=text,
                                  kind=MessageKind.CALLED, created_at=now, read_at=now)
    db.session.add(message)
    _answered(conversation, now)
    db.session.commit()
    return message


def assign(conversation: Conversation, to: User | None, by: User) -> None:
    """Give the conversation to a staff member of the patient's clinic (None: nobody).
    Commits."""
    if to is not None and not any(m.clinic_id == conversation.patient.clinic_id
                                  for m in to.memberships):
        raise MessageError(_l("Choose someone at the patient's clinic."), "not_staff",
                           "assignee")
    conversation.assigned_to_id = to.id if to else None
    _event(conversation, ConversationEventKind.ASSIGNED, by, to=to)
    db.session.commit()
    if to is not None and conversation.waiting_since is not None:
        db.session.refresh(conversation)
        _tell_staff(conversation)
        db.session.commit()


def close(conversation: Conversation, by: User) -> bool:
    """Mark the conversation closed: the patient at any time; staff once it is answered.
    False when it was closed already (by someone else a moment ago). Commits."""
    if by.role is Role.STAFF and conversation.waiting_since is not None:
        raise MessageError(_l("Answer the patient first; then you can close the "
                              "conversation."), "unanswered")
    done = db.session.execute(
        update(Conversation).where(Conversation.id == conversation.id,
                                   Conversation.status == ConversationStatus.OPEN)
        .values(status=ConversationStatus.CLOSED, closed_at=utcnow(), closed_by_id=by.id)
        .execution_options(synchronize_session=False)).rowcount
    if done:
        _event(conversation, ConversationEventKind.CLOSED, by)
    db.session.commit()
    db.session.refresh(conversation)
    return bool(done)


def withdraw(message: ConversationMessage, by: User) -> None:
    """Withdraw one's own message within WITHDRAW_MINUTES while unread. A staff message that
    has already left as an SMS or a printed letter cannot be withdrawn. Commits."""
    if not may_withdraw(message, by):
        raise MessageError(_l("This message can no longer be withdrawn. Write a new message "
                              "to correct it."), "too_late")
    notices = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.idempotency_key == f"message:{message.id}")))
    for notice in notices:
        if notice.status in (MessageStatus.SENDING, MessageStatus.PRINTED) or (
                notice.status is MessageStatus.SENT and notice.params.get("as_text")):
            raise MessageError(_l("This message has already reached the patient. Write a new "
                                  "message to correct it."), "delivered")
        if notice.status in (MessageStatus.PENDING, MessageStatus.LETTER_QUEUED):
            notice.status = MessageStatus.CANCELLED
            notice.note("withdrawn")
    done = db.session.execute(
        update(ConversationMessage).where(ConversationMessage.id == message.id,
                                          ConversationMessage.withdrawn_at.is_(None),
                                          ConversationMessage.read_at.is_(None))
        .values(withdrawn_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not done:
        db.session.rollback()
        raise MessageError(_l("This message can no longer be withdrawn. Write a new message "
                              "to correct it."), "too_late")
    conversation = message.conversation
    db.session.refresh(message)
    _event(conversation, ConversationEventKind.WITHDRAWN, by, message=message)
    _recount_waiting(conversation)
    db.session.commit()


def _recount_waiting(conversation: Conversation) -> None:
    """After a withdrawal: waiting since the first live patient message after the last live
    answer, or not waiting."""
    db.session.refresh(conversation, ["messages"])
    waiting: datetime | None = None
    for message in conversation.messages:
        if message.withdrawn_at is not None:
            continue
        if message.from_patient:
            waiting = waiting or message.created_at
        else:
            waiting = None
    conversation.waiting_since = waiting


def mark_read_by_team(conversation: Conversation, staff: User) -> None:
    """The first staff member to open it marks the patient's messages read. Commits."""
    now = utcnow()
    db.session.execute(
        update(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id,
                                          ConversationMessage.from_patient.is_(True),
                                          ConversationMessage.read_at.is_(None))
        .values(read_at=now, read_by_id=staff.id).execution_options(synchronize_session=False))
    db.session.commit()


def mark_read_by_patient(conversation: Conversation) -> None:
    now = utcnow()
    db.session.execute(
        update(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id,
                                          ConversationMessage.from_patient.is_(False),
                                          ConversationMessage.read_at.is_(None))
        .values(read_at=now, read_by_id=conversation.patient.user_id)
        .execution_options(synchronize_session=False))
    db.session.commit()


def delivered(notice: OutboxMessage, channel: str, now: datetime) -> None:
    """The worker sent a ``message`` notice. When it was an SMS with the text, the patient
    has the answer on their phone: it counts as read and can no longer be withdrawn. (A
    letter can be until it is printed; see ``withdraw``.) In the worker's transaction."""
    from server.notify.texts import message_text_fits

    message_id = int(notice.params.get("message_id", 0))
    if channel != Channel.SMS.value or not notice.params.get("as_text") or \
            not message_text_fits(message_id, notice.receiver.language):
        return
    db.session.execute(
        update(ConversationMessage).where(
            ConversationMessage.id == message_id, ConversationMessage.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False))


def notice_obsolete(notice: OutboxMessage) -> bool:
    """A notice about a message withdrawn since it was planned is not sent."""
    message = db.session.get(ConversationMessage, int(notice.params.get("message_id", 0)))
    return message is None or message.withdrawn_at is not None


def after_transfer(patient: PatientProfile) -> None:
    """A move to another clinic: open conversations go to the new coordinator (or to the
    new clinic's inbox). In the move's transaction."""
    assignee = default_assignee(patient)
    for conversation in db.session.scalars(select(Conversation).where(
            Conversation.patient_id == patient.id,
            Conversation.status == ConversationStatus.OPEN)):
        conversation.assigned_to_id = assignee.id if assignee else None
        _event(conversation, ConversationEventKind.ASSIGNED, None, to=assignee)


# --- the inbox -----------------------------------------------------------------------------------

class InboxFilter:
    UNANSWERED = "unanswered"
    MINE = "mine"
    MY_PATIENTS = "my_patients"
    OVERDUE = "overdue"
    ALL = "all"
    CLOSED = "closed"
    ALL_FILTERS = (UNANSWERED, MINE, MY_PATIENTS, OVERDUE, ALL, CLOSED)


INBOX_LIMIT = 100


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    #: The latest live message (for its first words and who wrote it).
    latest: ConversationMessage | None
    answer_by: date | None
    overdue: bool


def _inbox_query(clinic_ids: list[int], user: User, which: str, topic: Topic | None):  # type: ignore[no-untyped-def]
    query = (select(Conversation).join(PatientProfile, Conversation.patient_id ==
                                       PatientProfile.id)
             .where(PatientProfile.clinic_id.in_(clinic_ids)))
    if which == InboxFilter.CLOSED:
        query = query.where(Conversation.status == ConversationStatus.CLOSED)
    elif which != InboxFilter.ALL:
        query = query.where(Conversation.status == ConversationStatus.OPEN)
    if which in (InboxFilter.UNANSWERED, InboxFilter.OVERDUE):
        query = query.where(Conversation.waiting_since.is_not(None))
    if which == InboxFilter.MINE:
        query = query.where(Conversation.assigned_to_id == user.id)
    if which == InboxFilter.MY_PATIENTS:
        query = query.where(Conversation.patient_id.in_(team.patient_ids_of(user)))
    if which == InboxFilter.OVERDUE:
        query = query.where(_overdue_condition(clinic_ids))
    if topic is not None:
        query = query.where(Conversation.topic == topic)
    return query


def _overdue_condition(clinic_ids: list[int], now: datetime | None = None) -> ColumnElement[bool]:
    """SQL for "waiting past the answer time", per clinic (a staff member has few)."""
    return overdue_condition(_cutoffs(clinic_ids, now))


def overdue_condition(cutoffs: Iterable[tuple[int | BindParameter[int],
                                              datetime | BindParameter[datetime]]]
                      ) -> ColumnElement[bool]:
    """"Waiting past the answer time" for (clinic, cutoff) pairs: values, or bound
    parameters (clinic_<n>, cutoff_<n>: overdue_parameters) for a statement built once."""
    return or_(false(), *(and_(PatientProfile.clinic_id == clinic,
                               Conversation.waiting_since < cutoff)
                          for clinic, cutoff in cutoffs))


def overdue_parameters(clinics: int) -> list[tuple[BindParameter[int], BindParameter[datetime]]]:
    return [(bindparam(f"clinic_{n}"), bindparam(f"cutoff_{n}")) for n in range(clinics)]


def overdue_values(clinic_ids: list[int], now: datetime | None = None) -> dict[str, object]:
    """The values of overdue_parameters: each clinic and the moment its answers are late."""
    values: dict[str, object] = {}
    for n, (clinic, cutoff) in enumerate(_cutoffs(clinic_ids, now)):
        values[f"clinic_{n}"] = clinic
        values[f"cutoff_{n}"] = cutoff
    return values


def _cutoffs(clinic_ids: list[int], now: datetime | None) -> list[tuple[int, datetime]]:
    # Usually in the session already (the staff member's memberships), so no query.
    clinics = [found for cid in clinic_ids if (found := db.session.get(Clinic, cid))]
    return [(clinic.id, overdue_cutoff(clinic, now)) for clinic in clinics]


def inbox(clinic_ids: list[int], user: User, which: str = InboxFilter.UNANSWERED,
          topic: Topic | None = None, limit: int = INBOX_LIMIT) -> list[InboxRow]:
    """The clinic's conversations for a filter: waiting ones oldest first, others latest
    first. A fixed number of queries whatever the size of the clinic."""
    if not clinic_ids:
        return []
    query = _inbox_query(clinic_ids, user, which, topic).options(
        joinedload(Conversation.patient).joinedload(PatientProfile.user),
        joinedload(Conversation.patient).joinedload(PatientProfile.clinic),
        joinedload(Conversation.assigned_to))
    if which in (InboxFilter.UNANSWERED, InboxFilter.OVERDUE, InboxFilter.MINE,
                 InboxFilter.MY_PATIENTS):
        query = query.order_by(Conversation.waiting_since.is_(None),
                               Conversation.waiting_since, Conversation.id)
    else:
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    conversations = list(db.session.scalars(query.limit(limit)).unique())
    now = utcnow()
    latest = _latest_messages([c.id for c in conversations])
    return [InboxRow(c, latest.get(c.id), answer_by(c.patient.clinic, c.waiting_since)
                     if c.waiting_since else None, is_overdue(c, now))
            for c in conversations]


def _latest_messages(conversation_ids: list[int]) -> dict[int, ConversationMessage]:
    if not conversation_ids:
        return {}
    newest = (select(ConversationMessage.conversation_id,
                     func.max(ConversationMessage.id).label("id"))
              .where(ConversationMessage.conversation_id.in_(conversation_ids),
                     ConversationMessage.withdrawn_at.is_(None))
              .group_by(ConversationMessage.conversation_id).subquery())
    found = aliased(ConversationMessage)
    return {m.conversation_id: m for m in db.session.scalars(
        select(found).join(newest, found.id == newest.c.id))}


@dataclass(frozen=True)
class InboxCounts:
    unanswered: int
    overdue: int
    mine: int


def counts(clinic_ids: list[int], user: User) -> InboxCounts:
    """For the staff home and the navigation: unanswered, overdue, and unanswered of mine."""
    if not clinic_ids:
        return InboxCounts(0, 0, 0)
    return InboxCounts(*db.session.execute(select(*(
        query.scalar_subquery() for query in count_queries(
            clinic_ids, user.id, _overdue_condition(clinic_ids))))).one())


def count_queries(clinic_ids: list[int] | BindParameter[list[int]],
                  user_id: int | BindParameter[int], overdue: ColumnElement[bool]
                  ) -> tuple[Select[tuple[int]], ...]:
    """The three counts of InboxCounts as queries (Today runs them with its other counts
    in one statement built once, hence the bound parameters)."""
    waiting = select(func.count()).select_from(Conversation).join(PatientProfile).where(
        PatientProfile.clinic_id.in_(clinic_ids),
        Conversation.status == ConversationStatus.OPEN,
        Conversation.waiting_since.is_not(None))
    return (waiting, waiting.where(overdue), waiting.where(Conversation.assigned_to_id == user_id))


def overdue(clinic_ids: list[int], limit: int = 500) -> list[Conversation]:
    """Open conversations waiting past the clinic's answer time (for the worklist)."""
    if not clinic_ids:
        return []
    return list(db.session.scalars(
        select(Conversation).join(PatientProfile)
        .where(PatientProfile.clinic_id.in_(clinic_ids),
               Conversation.status == ConversationStatus.OPEN,
               Conversation.waiting_since.is_not(None), _overdue_condition(clinic_ids))
        .options(joinedload(Conversation.patient).joinedload(PatientProfile.clinic),
                 joinedload(Conversation.patient).joinedload(PatientProfile.user),
                 joinedload(Conversation.assigned_to))
        .order_by(Conversation.waiting_since).limit(limit)).unique())


def has_any(patient_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(Conversation.patient_id == patient_id))))


# --- who may be assigned, who reads -------------------------------------------------------------

def assignable(clinic_id: int) -> list[User]:
    """Active staff of the clinic, by name."""
    from server.services import worklist

    return worklist.colleagues([clinic_id])


# --- quick answers --------------------------------------------------------------------------------

def quick_answers(clinic_id: int) -> list[QuickAnswer]:
    return list(db.session.scalars(
        select(QuickAnswer).where(QuickAnswer.clinic_id == clinic_id,
                                  QuickAnswer.archived_at.is_(None))
        .order_by(QuickAnswer.title, QuickAnswer.id)))


def add_quick_answer(clinic_id: int, title: str, body: str, by: User) -> QuickAnswer:
    title = clean(title)
    if not title:
        raise MessageError(_l("Give it a short title."), "empty", "title")
    if len(title) > QUICK_TITLE_MAX:
        raise MessageError(_l("Please keep it under %(max)d characters (now %(n)d).",
                              max=QUICK_TITLE_MAX, n=len(title)), "too_long", "title")
    quick = QuickAnswer(clinic_id=clinic_id, title=title, body=_checked(body),
                        created_by_id=by.id)
    db.session.add(quick)
    db.session.commit()
    return quick


def archive_quick_answer(quick: QuickAnswer) -> None:
    quick.archived_at = quick.archived_at or utcnow()
    db.session.commit()
