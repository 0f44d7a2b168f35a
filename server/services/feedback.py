"""Feedback check-ins: invitations after attended appointments, answers by app or SMS,
alerts for the care team, and the clinic's own figures.

Anonymity: an anonymous answer is written to ``anonymous_feedback`` with the
clinic, the instrument, the scores, the comment and the ISO week, nothing
more. No access-log entry, no invitation link, no timestamp. The invitation
it answered is marked "answered" exactly as for an answer with a name, and
invitations keep no answered-at time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import (
    AnonymousFeedback,
    Appointment,
    Channel,
    Clinic,
    FeedbackInvitation,
    FeedbackResponse,
    FeedbackSettings,
    FeedbackVia,
    InvitationStatus,
    MessagePurpose,
    OutboxMessage,
    PatientProfile,
    ServiceKind,
    User,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.numbers import whole_number
from server.services import instruments, outbox
from server.services.errors import DomainError
from server.services.instruments import Instrument

#: The instrument an invitation after an appointment asks.
INVITE_INSTRUMENT = "how_was_the_meeting"
INVITATION_DAYS = 7
#: The one gentle reminder, if the invitation is still open then.
REMINDER_AFTER = timedelta(days=3)
COMMENT_MAX = 1000
#: The smallest number of responses an aggregate is shown for.
MIN_GROUP = 5
OSLO = ZoneInfo("Europe/Oslo")
FEEDBACK_PURPOSES = (MessagePurpose.FEEDBACK_INVITE, MessagePurpose.FEEDBACK_REMINDER)


class FeedbackError(DomainError):
    """An answer that cannot be stored; ``field`` names the form field, if any."""



def iso_week(moment: datetime) -> str:
    """The ISO week of ``moment`` in Norway, e.g. "2026-W48"."""
    year, week, _ = moment.astimezone(OSLO).isocalendar()
    return f"{year}-W{week:02d}"


def week_of_day(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_of_week(week: str) -> str:
    """The month an ISO week mostly falls in (that of its Thursday), e.g. "2026-11"."""
    year, number = week.split("-W")
    thursday = date.fromisocalendar(int(year), int(number), 4)
    return f"{thursday.year}-{thursday.month:02d}"


# --- invitations -----------------------------------------------------------------------------

def _instant_channels(patient: PatientProfile) -> list[str]:
    """Push and SMS in the patient's order within what the clinic offers. Never letters:
    a check-in by post would arrive long after the meeting."""
    offered = set(patient.clinic.offered_channels or [])
    return [c for c in patient.contact_channels
            if c in offered and c in (Channel.PUSH.value, Channel.SMS.value)]


def invite_after(appointment: Appointment, now: datetime | None = None) -> FeedbackInvitation | None:
    """One invitation after an attended clinic appointment (caller commits)."""
    if appointment.service is not ServiceKind.CLINIC:
        return None
    if db.session.scalar(select(FeedbackInvitation.id).where(
            FeedbackInvitation.appointment_id == appointment.id)):
        return None
    now = now or utcnow()
    patient = appointment.patient
    invitation = FeedbackInvitation(
        patient_id=patient.id, clinic_id=appointment.clinic_id, appointment_id=appointment.id,
        instrument_key=INVITE_INSTRUMENT, status=InvitationStatus.OPEN, created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS))
    db.session.add(invitation)
    db.session.flush()
    channels = _instant_channels(patient)
    if channels:
        params = {"invitation_id": invitation.id}
        outbox.enqueue(key=f"feedback_invite:{invitation.id}",
                       purpose=MessagePurpose.FEEDBACK_INVITE, patient=patient,
                       template="feedback_invite", params=params, channels=channels, due_at=now)
        outbox.enqueue(key=f"feedback_reminder:{invitation.id}",
                       purpose=MessagePurpose.FEEDBACK_REMINDER, patient=patient,
                       template="feedback_reminder", params=params, channels=channels,
                       due_at=now + REMINDER_AFTER)
    return invitation


def message_obsolete(message: OutboxMessage, now: datetime) -> bool:
    """A check-in message is not sent once its invitation is answered or expired."""
    invitation_id = (message.params or {}).get("invitation_id")
    invitation = db.session.get(FeedbackInvitation, invitation_id) if invitation_id else None
    return invitation is None or not invitation.is_open(now)


def open_invitation(patient: PatientProfile, now: datetime | None = None
                    ) -> FeedbackInvitation | None:
    """The newest invitation the patient can still answer."""
    return db.session.scalar(open_invitation_query(patient.id, now or utcnow()))


def open_invitation_query(patient_id: int, now: datetime) -> Select[tuple[FeedbackInvitation]]:
    """The newest invitation the patient can still answer, as a query (home selects its
    instrument key inside its one summary query)."""
    return (select(FeedbackInvitation)
            .where(FeedbackInvitation.patient_id == patient_id,
                   FeedbackInvitation.status == InvitationStatus.OPEN,
                   FeedbackInvitation.expires_at > now)
            .order_by(FeedbackInvitation.created_at.desc()).limit(1))


# --- answering -------------------------------------------------------------------------------

def check_scores(instrument: Instrument, raw: dict[str, object],
                 overall_only: bool = False) -> dict[str, int]:
    """Every item (or only the overall one) as a whole number 0-10, else FeedbackError."""
    keys = [instrument.overall_item] if overall_only else instrument.item_keys
    scores: dict[str, int] = {}
    for key in keys:
        value = raw.get(key)
        if value is None or value == "":
            raise FeedbackError(_l("Choose a number from 0 to 10."), "missing", key)
        number = whole_number(value, -(10**9), 10**9)
        if number is None:
            raise FeedbackError(_l("Choose a number from 0 to 10."), "not_a_number", key)
        if number not in instruments.SCALE:
            raise FeedbackError(_l("Choose a number from 0 to 10."), "out_of_range", key)
        scores[key] = number
    return scores


@dataclass(frozen=True)
class Answer:
    instrument: Instrument
    scores: dict[str, int]
    comment: str = ""
    anonymous: bool = False
    client_key: str | None = None
    invitation_id: int | None = None
    via: FeedbackVia = FeedbackVia.APP


def _claim(invitation_id: int, patient: PatientProfile, instrument: Instrument,
           now: datetime) -> None:
    """Mark the invitation answered, once; raises when it is not the patient's, asks
    another instrument, or is not open."""
    invitation = db.session.get(FeedbackInvitation, invitation_id)
    if invitation is None or invitation.patient_id != patient.id or \
            invitation.instrument_key != instrument.key:
        raise FeedbackError(_l("This check-in was not found."), "not_found")
    claimed = db.session.execute(
        update(FeedbackInvitation)
        .where(FeedbackInvitation.id == invitation_id,
               FeedbackInvitation.status == InvitationStatus.OPEN,
               FeedbackInvitation.expires_at > now)
        .values(status=InvitationStatus.ANSWERED)
    ).rowcount
    if not claimed:  # nothing was changed, so there is nothing to roll back
        db.session.refresh(invitation)
        if invitation.status is InvitationStatus.ANSWERED:
            raise FeedbackError(_l("You have already answered this check-in. Thank you!"),
                                "answered")
        raise FeedbackError(_l("This check-in has closed. You can still check in at any time "
                               "from the app."), "expired")


def _existing(client_key: str | None) -> FeedbackResponse | AnonymousFeedback | None:
    if not client_key:
        return None
    return (db.session.scalar(select(FeedbackResponse).where(
        FeedbackResponse.client_key == client_key))
        or db.session.scalar(select(AnonymousFeedback).where(
            AnonymousFeedback.client_key == client_key)))


def submit(patient: PatientProfile, answer: Answer, now: datetime | None = None
           ) -> FeedbackResponse | AnonymousFeedback:
    """Store one answer (once per client key). Commits."""
    now = now or utcnow()
    if len(answer.comment) > COMMENT_MAX:
        raise FeedbackError(_l("Please keep it under %(max)d characters.", max=COMMENT_MAX),
                            "too_long", "comment")
    found = _existing(answer.client_key)
    if found is not None:
        return found
    instrument = answer.instrument
    total = (sum(answer.scores.values())
             if set(answer.scores) == set(instrument.item_keys) else None)
    if answer.invitation_id is not None:
        _claim(answer.invitation_id, patient, instrument, now)
        if answer.anonymous:
            # Its own transaction: the anonymous row must share nothing with the
            # invitation's update (on PostgreSQL, not even the transaction id).
            db.session.commit()
    stored: FeedbackResponse | AnonymousFeedback
    if answer.anonymous:
        stored = AnonymousFeedback(
            clinic_id=patient.clinic_id, instrument_key=instrument.key,
            instrument_version=instrument.version, scores=answer.scores, total=total,
            comment=answer.comment.strip(), week=iso_week(now), client_key=answer.client_key)
    else:
        stored = FeedbackResponse(
            # No invitation id: otherwise "answered, but no named answer points to it"
            # would mark the invitations that were answered anonymously.
            patient_id=patient.id, clinic_id=patient.clinic_id,
            invitation_id=None, instrument_key=instrument.key,
            instrument_version=instrument.version, scores=answer.scores, total=total,
            comment=answer.comment.strip(), via=answer.via, week=iso_week(now), created_at=now,
            client_key=answer.client_key)
    db.session.add(stored)
    try:
        db.session.flush()
    except IntegrityError:  # the same form twice at the same moment
        db.session.rollback()
        again = _existing(answer.client_key)
        if again is None:
            raise
        return again
    if isinstance(stored, FeedbackResponse):
        _alert_if_needed(patient, stored, instrument)
    db.session.commit()
    return stored


# --- alerts ----------------------------------------------------------------------------------

def threshold(clinic_id: int, instrument: Instrument) -> int:
    settings = db.session.get(FeedbackSettings, clinic_id)
    value = (settings.thresholds or {}).get(instrument.key) if settings else None
    return int(value) if isinstance(value, int) else instrument.alert_default


def _alert_if_needed(patient: PatientProfile, response: FeedbackResponse,
                     instrument: Instrument) -> None:
    if response.total is None or instrument.alert_rule == "none":
        return
    limit = threshold(patient.clinic_id, instrument)
    details: dict[str, object] = {"instrument": instrument.key, "total": response.total,
                                  "max": instrument.max_total, "threshold": limit,
                                  "rule": instrument.alert_rule, "response_id": response.id}
    if instrument.alert_rule == "drop":
        previous = db.session.scalar(
            select(FeedbackResponse)
            .where(FeedbackResponse.patient_id == patient.id,
                   FeedbackResponse.instrument_key == instrument.key,
                   FeedbackResponse.total.is_not(None),
                   FeedbackResponse.id != response.id)
            .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc()).limit(1))
        if previous is None or previous.total is None or previous.total - response.total < limit:
            return
        details["previous"] = previous.total
    elif response.total >= limit:
        return
    db.session.add(WorkItem(clinic_id=patient.clinic_id, patient_id=patient.id,
                            kind=WorkKind.FEEDBACK_ALERT, details=details))


# --- reading ---------------------------------------------------------------------------------

def history(patient: PatientProfile) -> dict[str, list[FeedbackResponse]]:
    """The patient's identified answers per instrument key, oldest first."""
    grouped: dict[str, list[FeedbackResponse]] = defaultdict(list)
    for response in db.session.scalars(
            select(FeedbackResponse).where(FeedbackResponse.patient_id == patient.id)
            .order_by(FeedbackResponse.created_at, FeedbackResponse.id)):
        grouped[response.instrument_key].append(response)
    return dict(grouped)


def latest_for(patient: PatientProfile) -> FeedbackResponse | None:
    """The patient's latest identified answer (the patient overview)."""
    return db.session.scalars(
        select(FeedbackResponse).where(FeedbackResponse.patient_id == patient.id)
        .order_by(FeedbackResponse.created_at.desc(), FeedbackResponse.id.desc()).limit(1)).first()


def alerts_for(patient: PatientProfile) -> list[WorkItem]:
    return list(db.session.scalars(
        select(WorkItem).where(WorkItem.patient_id == patient.id,
                               WorkItem.kind == WorkKind.FEEDBACK_ALERT)
        .order_by(WorkItem.created_at.desc())))


def settings_for(clinic_id: int) -> FeedbackSettings:
    return db.session.get(FeedbackSettings, clinic_id) or FeedbackSettings(
        clinic_id=clinic_id, thresholds={}, you_said_we_did="")


def save_settings(clinic: Clinic, thresholds: dict[str, int], text: str, by: User) -> None:
    settings = db.session.get(FeedbackSettings, clinic.id) or FeedbackSettings(clinic_id=clinic.id)
    settings.thresholds = dict(thresholds)
    settings.you_said_we_did = text.strip()
    settings.updated_at = utcnow()
    settings.updated_by_id = by.id
    db.session.add(settings)
    db.session.commit()


# --- the clinic's figures --------------------------------------------------------------------

@dataclass(frozen=True)
class MonthFigures:
    """One instrument in one month: answers with names and without, each averaged only
    from MIN_GROUP answers up (None below)."""

    month: str
    named: int
    named_mean: float | None
    anonymous: int
    anonymous_mean: float | None


@dataclass(frozen=True)
class Dashboard:
    invited: int | None
    answered: int | None
    averages: dict[str, list[MonthFigures]]
    #: Comments without names per completed month that holds at least MIN_GROUP such answers.
    anonymous_comments: dict[str, list[str]]
    anonymous_count: int

    @property
    def response_rate(self) -> float | None:
        if not self.invited or self.answered is None:
            return None
        return self.answered / self.invited


def _months(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def dashboard(clinic_id: int, first: date, last: date, today: date | None = None) -> Dashboard:
    """Response rate, monthly averages and comments without names, in a fixed number of
    queries whatever the number of patients or responses.

    Figures come in whole calendar months (an answer's month is that of its ISO week's
    Thursday), so choosing other dates never yields a part of a month. Answers with and
    without names are averaged apart: staff can export the named ones, so a mixed average
    would let them work out an anonymous answer. Anonymous figures and comments are shown
    only for months that are over, so they cannot be read off one by one as answers arrive.
    """
    today = today or datetime.now(OSLO).date()
    months = _months(first, last)
    current_month = f"{today.year}-{today.month:02d}"
    # Invitations in whole months that are over: two periods a day apart, or a reload
    # after one patient answered, must not tell whether that patient answered.
    end_day = min(date(last.year + (last.month == 12), last.month % 12 + 1, 1),
                  date(today.year, today.month, 1))
    start = datetime.combine(date(first.year, first.month, 1), datetime.min.time(), OSLO)
    end = datetime.combine(end_day, datetime.min.time(), OSLO)
    counts = dict(db.session.execute(
        select(FeedbackInvitation.status, func.count())
        .where(FeedbackInvitation.clinic_id == clinic_id,
               FeedbackInvitation.created_at >= start, FeedbackInvitation.created_at < end)
        .group_by(FeedbackInvitation.status)).all())
    invited = sum(counts.values())
    answered = counts.get(InvitationStatus.ANSWERED, 0)
    # Weeks whose Thursday may fall in the chosen months.
    weeks = (week_of_day(date.fromisoformat(f"{months[0]}-01") - timedelta(days=6)),
             week_of_day(last + timedelta(days=37)))
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for offset, table in ((0, FeedbackResponse), (2, AnonymousFeedback)):
        rows = db.session.execute(
            select(table.instrument_key, table.week, func.count(), func.sum(table.total))
            .where(table.clinic_id == clinic_id, table.week >= weeks[0],
                   table.week <= weeks[1], table.total.is_not(None))
            .group_by(table.instrument_key, table.week)).all()
        for key, week, n, total in rows:
            month = month_of_week(week)
            if month in months:
                sums[(key, month)][offset] += n
                sums[(key, month)][offset + 1] += int(total or 0)
    averages: dict[str, list[MonthFigures]] = defaultdict(list)
    for (key, month), (named, named_sum, anon, anon_sum) in sorted(
            sums.items(), key=lambda kv: kv[0][1]):
        over = month < current_month
        averages[key].append(MonthFigures(
            month, named, named_sum / named if named >= MIN_GROUP else None,
            anon if over else 0, anon_sum / anon if over and anon >= MIN_GROUP else None))
    per_month: dict[str, list[str]] = defaultdict(list)
    for week, comment in db.session.execute(
            select(AnonymousFeedback.week, AnonymousFeedback.comment)
            .where(AnonymousFeedback.clinic_id == clinic_id, AnonymousFeedback.week >= weeks[0],
                   AnonymousFeedback.week <= weeks[1])).all():
        month = month_of_week(week)
        if month in months and month < current_month:
            per_month[month].append(comment)
    comments = {month: sorted(c for c in found if c.strip())
                for month, found in sorted(per_month.items()) if len(found) >= MIN_GROUP}
    return Dashboard(
        invited=invited if invited >= MIN_GROUP else None,
        answered=answered if invited >= MIN_GROUP else None,
        averages=dict(averages), anonymous_comments=comments,
        anonymous_count=sum(len(found) for found in per_month.values()))


def identified_responses(clinic_ids: list[int], first: date, last: date
                         ) -> list[FeedbackResponse]:
    weeks = (week_of_day(first), week_of_day(last))
    return list(db.session.scalars(
        select(FeedbackResponse)
        .where(FeedbackResponse.clinic_id.in_(clinic_ids), FeedbackResponse.week >= weeks[0],
               FeedbackResponse.week <= weeks[1])
        .order_by(FeedbackResponse.created_at)))


# --- SMS -------------------------------------------------------------------------------------

_NUMBER_WORDS = {
    "null": 0, "zero": 0, "en": 1, "ett": 1, "ein": 1, "eitt": 1, "one": 1, "to": 2, "two": 2,
    "tre": 3, "three": 3, "fire": 4, "four": 4, "fem": 5, "five": 5, "seks": 6, "six": 6,
    "sju": 7, "syv": 7, "seven": 7, "åtte": 8, "eight": 8, "ni": 9, "nine": 9, "ti": 10,
    "ten": 10,
}
_POLITE = {"takk", "tusen", "thanks", "thank", "you", "hei", "hi", "hello", "svar", "mvh",
           "ok"}
#: "8/10", "8 av 10"; not a 10 inside slash-separated scores ("8/10/9/8").
_OUT_OF_TEN = re.compile(r"\b(?<!/)(?<!/\s)(\d{1,2})\s*(?:/|av|of|out of)\s*10\b(?!\s*/\s*\d)")
_INVISIBLE = dict.fromkeys(map(ord, "\ufe0e\ufe0f\u200b\u200c\u200d\u2060\ufeff\u20e3"))
#: Keycap emoji in a row ("8️⃣7️⃣9️⃣8️⃣"; a keyboard puts no space between them).
_KEYCAPS = re.compile(r"(?:\d[\ufe0e\ufe0f]?\u20e3)+")


def _keycaps(found: re.Match[str]) -> str:
    """One number when the keycaps make 0-10 ("1️⃣0️⃣"), else one number per keycap."""
    digits = re.sub(r"\D", "", found.group())
    return f" {int(digits)} " if int(digits) <= 10 else " " + " ".join(digits) + " "


def parse_scores(text: str) -> list[int] | None:
    """A check-in reply by SMS: one number 0-10 (overall) or four numbers ("8 7 9 8").

    Tolerant of separators (spaces, commas, dots, slashes, dashes, new lines),
    number words (nb, nn, en), keycap emoji, full-width digits, "8/10" and
    "8 av 10", and a "takk" or "hei" around them. Returns None when the reply
    is not exactly one or four numbers from 0 to 10.
    """
    cleaned = _KEYCAPS.sub(_keycaps, unicodedata.normalize("NFKC", text))
    cleaned = cleaned.translate(_INVISIBLE).casefold()
    cleaned = cleaned.replace("\U0001f51f", " 10 ")  # the keycap ten emoji
    # A minus at the start or stuck to a digit is a negative number, outside the
    # scale; one with spaces around it separates ("8 - 7 - 9 - 8").
    if re.search(r"^\s*-\s*\d|\s-\d", cleaned):
        return None
    cleaned = _OUT_OF_TEN.sub(r" \1 ", cleaned)
    numbers: list[int] = []
    for token in re.findall(r"\d+|[^\W\d_]+|[^\w\s]", cleaned):
        if token.isdigit():
            number = whole_number(token, 0, 99)
            if number is None:
                return None
            numbers.append(number)
        elif token in _NUMBER_WORDS:
            numbers.append(_NUMBER_WORDS[token])
        elif token in _POLITE or token in ",.;:/-–!?()":  # noqa: S105 (a word, not a secret)
            continue
        else:
            return None
    if len(numbers) not in (1, 4) or any(n > 10 for n in numbers):
        return None
    return numbers
