"""What is new for the patient, and what to do: the "For you now" block on home.

Each item is one sentence and one link to the page where the patient acts. The order is
the order of urgency: an appointment today or tomorrow first, then answers from the
clinic, then things that can wait. Nothing here sends anything; it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from flask_babel import format_time
from flask_babel import gettext as _
from sqlalchemy import select

from server.care_team import areas, team, transfers
from server.extensions import db
from server.locales import day_month
from server.messages import conversations
from server.messages.models import Conversation, ConversationMessage
from server.models import (
    PatientAnswer,
    PatientProfile,
    RelativeAccess,
)
from server.models.base import utcnow
from server.notify.texts import OSLO, day_phrase
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


def _appointments(patient: PatientProfile) -> list[Item]:
    now = utcnow()
    found = []
    for appointment in appointments.upcoming_for(patient):
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


def _messages(patient: PatientProfile) -> list[Item]:
    unread = conversations.unread_for_patient(patient)
    if not unread:
        return []
    latest = db.session.scalar(
        select(Conversation.id).join(ConversationMessage)
        .where(Conversation.patient_id == patient.id, ConversationMessage.from_patient.is_(False),
               ConversationMessage.read_at.is_(None), ConversationMessage.withdrawn_at.is_(None))
        .order_by(ConversationMessage.id.desc()).limit(1))
    href = url_for("messages.show", conversation_id=latest) if latest else \
        url_for("messages.index")
    return [Item("message", _("You have a new message from your team.") if unread == 1 else
                 _("You have %(n)d new messages from your team.", n=unread), href,
                 _("Read it") if unread == 1 else _("Read them"))]


def _notes(patient: PatientProfile) -> list[Item]:
    """What was agreed at an appointment (or a meeting's minutes), not yet opened."""
    from server.plans.agenda import unread_agreed

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


def _check_in(patient: PatientProfile) -> list[Item]:
    invitation = feedback.open_invitation(patient)
    if invitation is None:
        return []
    return [Item("check_in", _("How was your last meeting? Tell us in under a minute."),
                 url_for("feedback.check_in", key=invitation.instrument_key),
                 _("Give feedback"))]


def _team(patient: PatientProfile) -> list[Item]:
    items = []
    moving = transfers.open_transfer(patient.id)
    if moving is not None:
        items.append(Item("move", _("Your follow-up is being moved to a clinic at %(trust)s. "
                                    "See what changes.", trust=moving.to_clinic.health_trust),
                          url_for("team.index"), _("See my team")))
    view = team.team_for(patient)
    for handover in view.handovers:
        items.append(Item("handover", _("%(area)s is being handed over to someone new in "
                                        "your team.", area=areas.area(handover.area_key).label),
                          url_for("team.index"), _("See my team")))
    return items


def _relatives(patient: PatientProfile) -> list[Item]:
    paused = db.session.scalar(select(RelativeAccess.id).where(
        RelativeAccess.patient_id == patient.id, RelativeAccess.revoked_at.is_(None),
        RelativeAccess.paused_at.is_not(None)).limit(1))
    if paused is None:
        return []
    return [Item("relatives", _("Confirm which relatives may still follow you at your new "
                                "clinic."), url_for("relatives.index"), _("Confirm"))]


def items_for(patient: PatientProfile) -> list[Item]:
    """Everything new or waiting for the patient, soonest first."""
    found = [*_appointments(patient), *_decisions(patient), *_messages(patient),
             *_notes(patient), *_check_in(patient), *_team(patient), *_relatives(patient)]
    return sorted(found, key=lambda item: not item.soon)
