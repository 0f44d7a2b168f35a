"""What is new for the patient, and what to do: the "For you now" block on home.

Each item is one sentence and one link to the page where the patient acts. The order is
the order of urgency: an appointment today or tomorrow first, then answers from the
clinic, then things that can wait. Nothing here sends anything; it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import url_for
from flask_babel import format_time
from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, exists, func, select

from server.care_team import areas, team, transfers
from server.extensions import db
from server.locales import day_month
from server.messages import conversations
from server.messages.models import Conversation, ConversationMessage
from server.models import (
    Appointment,
    FeedbackInvitation,
    PatientAnswer,
    PatientProfile,
    RelativeAccess,
)
from server.models.base import utcnow
from server.notify.texts import OSLO, day_phrase
from server.plans.agenda import unread_agreed, unread_agreed_conditions
from server.services import appointments, feedback, take_home

#: Appointments this close without an answer are asked about on home.
ASK_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class Item:
    #: For tests and styling: appointment, decision, message, notes, check_in, handover, move,
    #: relatives.
    kind: str
    text: str
    href: str
    link: str
    #: Today or tomorrow: shown first and marked.
    soon: bool = False


@dataclass(frozen=True)
class Home:
    """What the patient's home shows: the next appointment and the "For you now" items."""
    next_appointment: Appointment | None
    items: list[Item]


@dataclass(frozen=True)
class _Signals:
    """Which kinds of news there are, found in one query; only those found are loaded."""
    unread: int
    latest_unread_conversation: int | None
    decisions: bool
    notes: bool
    check_in_key: str | None
    move: bool
    handovers: bool
    paused_relatives: bool


@cache
def _signals_statement() -> Select[Any]:
    """The summary query, built once per process with bound parameters: building a
    statement of eight subqueries costs more than running it, and it never changes."""
    pid, now = bindparam("patient_id"), bindparam("now")
    unread = conversations.unread_by_patient(pid)
    return select(
        select(func.count(ConversationMessage.id)).join(Conversation).where(*unread)
        .scalar_subquery(),
        select(Conversation.id).join(ConversationMessage).where(*unread)
        .order_by(ConversationMessage.id.desc()).limit(1).scalar_subquery(),
        exists().where(*take_home.unseen_decision_conditions(pid)),
        exists().where(*unread_agreed_conditions(pid)),
        feedback.open_invitation_query(pid, now)
        .with_only_columns(FeedbackInvitation.instrument_key).scalar_subquery(),
        exists().where(*transfers.open_transfer_conditions(pid)),
        exists().where(*team.open_handover_conditions(pid)),
        exists().where(RelativeAccess.patient_id == pid, RelativeAccess.revoked_at.is_(None),
                       RelativeAccess.paused_at.is_not(None)),
    )


def _signals(patient: PatientProfile, now: datetime) -> _Signals:
    """One round trip for everything home might mention. Each module owns its conditions;
    the details are loaded afterwards only for what is there, so a patient with nothing new
    costs one query here whatever their history holds."""
    row = db.session.execute(_signals_statement(), {"patient_id": patient.id, "now": now}).one()
    return _Signals(int(row[0] or 0), row[1], bool(row[2]), bool(row[3]), row[4],
                    bool(row[5]), bool(row[6]), bool(row[7]))


def _appointments(upcoming: list[Appointment], now: datetime) -> list[Item]:
    found = []
    for appointment in upcoming:
        if appointment.is_cancelled or appointment.starts_at - now > ASK_WITHIN or \
                appointment.answer is not PatientAnswer.NONE or appointment.starts_at <= now:
            continue
        day = day_phrase(appointment.starts_at, now)
        soon = (appointment.starts_at.astimezone(OSLO).date() -
                now.astimezone(OSLO).date()).days <= 1
        found.append(Item(
            "appointment",
            _("You have an appointment %(day)s at %(time)s. Are you coming?", day=day,
              time=format_time(appointment.starts_at, "HH:mm")),
            url_for("appointments.show", appointment_id=appointment.id), _("Answer"), soon))
    return found


def _decisions(patient: PatientProfile) -> list[Item]:
    items = []
    for request in take_home.unseen_decisions(patient):
        if request.first_day and request.last_day:
            text = _("You have an answer to your take-home request for %(first)s–%(last)s.",
                     first=day_month(request.first_day), last=day_month(request.last_day))
        else:
            text = _("You have an answer to your take-home request.")
        items.append(Item("decision", text, url_for("take_home.show", request_id=request.id),
                          _("Read the answer")))
    return items


def _messages(unread: int, latest: int | None) -> list[Item]:
    href = url_for("messages.show", conversation_id=latest) if latest else \
        url_for("messages.index")
    return [Item("message", _("You have a new message from your team.") if unread == 1 else
                 _("You have %(n)d new messages from your team.", n=unread), href,
                 _("Read it") if unread == 1 else _("Read them"))]


def _notes(patient: PatientProfile) -> list[Item]:
    """What was agreed at an appointment (or a meeting's minutes), not yet opened."""
    items = []
    for talk in unread_agreed(patient):
        appointment = talk.appointment
        text = _("The minutes from your meeting on %(day)s are ready.",
                 day=day_month(appointment.starts_at)) if appointment.is_team_meeting else \
            _("The notes from your appointment on %(day)s are ready.",
              day=day_month(appointment.starts_at))
        items.append(Item("notes", text, url_for("appointments.show",
                                                 appointment_id=appointment.id) + "#agreed-title",
                          _("Read them")))
    return items


def _check_in(instrument_key: str) -> list[Item]:
    return [Item("check_in", _("How was your last meeting? Tell us in under a minute."),
                 url_for("feedback.check_in", key=instrument_key), _("Give feedback"))]


def _move(patient: PatientProfile) -> list[Item]:
    moving = transfers.open_transfer(patient.id)
    if moving is None:
        return []
    return [Item("move", _("Your follow-up is being moved to a clinic at %(trust)s. "
                           "See what changes.", trust=moving.to_clinic.health_trust),
                 url_for("team.index"), _("See my team"))]


def _handovers(patient: PatientProfile) -> list[Item]:
    return [Item("handover", _("%(area)s is being handed over to someone new in your team.",
                               area=areas.area(handover.area_key).label),
                 url_for("team.index"), _("See my team"))
            for handover in team.open_handovers(patient.id)]


def _relatives() -> list[Item]:
    return [Item("relatives", _("Confirm which relatives may still follow you at your new "
                                "clinic."), url_for("relatives.index"), _("Confirm"))]


def home_for(patient: PatientProfile) -> Home:
    """The next appointment and everything new or waiting for the patient, soonest first."""
    now = utcnow()
    upcoming = appointments.upcoming_for(patient)
    signals = _signals(patient, now)
    found = [
        *_appointments(upcoming, now),
        *(_decisions(patient) if signals.decisions else []),
        *(_messages(signals.unread, signals.latest_unread_conversation)
          if signals.unread else []),
        *(_notes(patient) if signals.notes else []),
        *(_check_in(signals.check_in_key) if signals.check_in_key else []),
        *(_move(patient) if signals.move else []),
        *(_handovers(patient) if signals.handovers else []),
        *(_relatives() if signals.paused_relatives else []),
    ]
    return Home(next_appointment=next((a for a in upcoming if not a.is_cancelled), None),
                items=sorted(found, key=lambda item: not item.soon))
