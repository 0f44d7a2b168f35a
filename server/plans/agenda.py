"""Before my appointment (samvalg): what the patient wants to talk about at a clinic
appointment, and, afterwards, what was agreed, in plain words, item by item.

The patient writes before the appointment starts; staff write "what we agreed" once it has
started. Both go through the loaders in server/policy.py (the patient's own appointment, or
an appointment of a patient of my clinic, logged as the appointment).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.messages.conversations import clean as plain_text
from server.models import (
    Appointment,
    AppointmentStatus,
    MessagePurpose,
    PatientProfile,
    ServiceKind,
    User,
)
from server.models.base import utcnow
from server.plans.models import AppointmentAgenda
from server.services import outbox
from server.services.errors import DomainError

TOPICS = ("medication", "side_effects", "take_home", "control", "housing", "work_money",
          "health", "relatives")
TEXT_MAX = 1000
AGREED_ITEMS_MAX = 20
AGREED_ITEM_MAX = 300


class AgendaError(DomainError):
    """Wishes or agreements that cannot be stored as given."""


class AgreedChanged(DomainError):
    """Someone saved what was agreed (or the minutes) after this person opened the page."""

    def __init__(self, field: str) -> None:
        super().__init__(_l("Someone saved these notes while you were writing. What you wrote "
                            "is kept: compare it with the saved notes, and save again."),
                         "changed", field)


def may_ask(appointment: Appointment) -> bool:
    """The patient can say what they want to talk about: a clinic appointment not yet begun."""
    return (appointment.service is ServiceKind.CLINIC and not appointment.is_cancelled
            and appointment.starts_at > utcnow())


def for_appointment(appointment: Appointment) -> AppointmentAgenda | None:
    return db.session.scalar(select(AppointmentAgenda).where(
        AppointmentAgenda.appointment_id == appointment.id))


def for_appointments(ids: list[int]) -> dict[int, AppointmentAgenda]:
    """Agendas of these appointments, in one query (Today)."""
    if not ids:
        return {}
    return {a.appointment_id: a for a in db.session.scalars(
        select(AppointmentAgenda).where(AppointmentAgenda.appointment_id.in_(ids)))}


def _agenda(appointment: Appointment) -> AppointmentAgenda:
    found = for_appointment(appointment)
    if found is None:
        found = AppointmentAgenda(appointment_id=appointment.id,
                                  patient_id=appointment.patient_id, topics=[], text="",
                                  agreed=[], agreed_links=[], agreed_version=0,
                                  agreed_history=[])
        db.session.add(found)
    return found


def save_wishes(appointment: Appointment, topics: list[str], text: str,
                via: str = "app") -> AppointmentAgenda:
    """What the patient wants to talk about (replaces what they wrote before). Commits."""
    if not may_ask(appointment):
        raise AgendaError(_l("This appointment has started or is not at the clinic."),
                          "closed")
    if any(t not in TOPICS for t in topics):
        raise AgendaError(_l("Choose from the list."), "bad_topic", "topics")
    clean = plain_text(text)
    if len(clean) > TEXT_MAX:
        raise AgendaError(_l("Please keep it under %(n)d characters.", n=TEXT_MAX), "too_long",
                          "text")
    if not topics and not clean:
        raise AgendaError(_l("Tick something, or write in your own words."), "empty", "text")
    agenda = _agenda(appointment)
    agenda.topics = [t for t in TOPICS if t in topics]
    agenda.text = clean
    agenda.via = via
    agenda.updated_at = utcnow()
    db.session.commit()
    return agenda


def save_agreed(appointment: Appointment, text: str, by: User,
                based_on: int | None = None) -> AppointmentAgenda:
    """"What we agreed", one point per line, once the appointment has started. Commits."""
    if appointment.starts_at > utcnow():
        raise AgendaError(_l("Write what was agreed once the appointment has started."),
                          "future", "agreed")
    items = [line.strip() for line in text.splitlines() if line.strip()]
    if not items:
        raise AgendaError(_l("Write at least one point, one per line."), "empty", "agreed")
    if len(items) > AGREED_ITEMS_MAX or any(len(i) > AGREED_ITEM_MAX for i in items):
        raise AgendaError(_l("Write at most %(n)d points of at most %(m)d characters each.",
                             n=AGREED_ITEMS_MAX, m=AGREED_ITEM_MAX), "too_long", "agreed")
    return store_agreed(appointment, items, [None] * len(items), by, based_on, "agreed")


def store_agreed(appointment: Appointment, items: list[str],
                 links: list[dict[str, int] | None], by: User, based_on: int | None = None,
                 field: str = "agreed") -> AppointmentAgenda:
    """Keep checked items (and what each is about) and tell the patient. The version saved
    before stays in the history; ``based_on`` (the version the person started from) other
    than the current one raises AgreedChanged and stores nothing. Commits."""
    agenda = _agenda(appointment)
    if based_on is not None and based_on != (agenda.agreed_version or 0):
        raise AgreedChanged(field)
    if agenda.agreed:
        agenda.agreed_history = [*(agenda.agreed_history or []), {
            "items": list(agenda.agreed), "links": list(agenda.agreed_links or []),
            "at": agenda.agreed_at.isoformat() if agenda.agreed_at else None,
            "by_id": agenda.agreed_by_id}]
    agenda.agreed_version = (agenda.agreed_version or 0) + 1
    agenda.agreed = items
    agenda.agreed_links = links
    agenda.agreed_at = utcnow()
    agenda.agreed_by_id = by.id
    agenda.agreed_read_at = None  # changed: new to the patient again
    _tell_patient(appointment)
    db.session.commit()
    return agenda


def _tell_patient(appointment: Appointment) -> None:
    """"The notes from your appointment are ready", once a day per appointment, on the
    patient's channels (a letter carries the notes themselves)."""
    outbox.enqueue(key=f"agreed:{appointment.id}:{utcnow().date().isoformat()}",
                   purpose=MessagePurpose.AGREED, patient=appointment.patient,
                   appointment=appointment, template="agreed",
                   params={**outbox.appointment_params(appointment),
                           "appointment_id": appointment.id})


def agreed_items(appointment_id: int) -> list[str]:
    """What was agreed at an appointment, for the letter that carries it."""
    found = db.session.scalar(select(AppointmentAgenda).where(
        AppointmentAgenda.appointment_id == appointment_id))
    return list(found.agreed) if found else []


def earlier_versions(talk: AppointmentAgenda | None) -> list[dict[str, object]]:
    """The notes as they were before each later save, newest first, with who wrote them."""
    if talk is None or not talk.agreed_history:
        return []
    found = []
    for entry in reversed(talk.agreed_history):
        by = db.session.get(User, entry["by_id"]) if entry.get("by_id") else None
        at = entry.get("at")
        found.append({"items": entry.get("items", []), "by": by.display_name if by else "",
                      "at": datetime.fromisoformat(at) if at else None})
    return found


def unread_agreed_conditions(patient_id: int) -> list[ColumnElement[bool]]:
    """What was agreed that the patient has not opened yet."""
    return [AppointmentAgenda.patient_id == patient_id, AppointmentAgenda.agreed_at.is_not(None),
            AppointmentAgenda.agreed_read_at.is_(None)]


def unread_agreed(patient: PatientProfile) -> list[AppointmentAgenda]:
    """What was agreed that the patient has not opened yet, newest first (home)."""
    return list(db.session.scalars(_unread_agreed_statement(), {"patient_id": patient.id}))


@cache
def _unread_agreed_statement() -> Select[tuple[AppointmentAgenda]]:
    """Built once per process (home runs it whenever there are notes to show)."""
    return (select(AppointmentAgenda)
            .where(*unread_agreed_conditions(bindparam("patient_id")))
            .options(joinedload(AppointmentAgenda.appointment))
            .order_by(AppointmentAgenda.agreed_at.desc()).limit(5))


def mark_agreed_read(agenda: AppointmentAgenda) -> None:
    if agenda.agreed and agenda.agreed_read_at is None:
        agenda.agreed_read_at = utcnow()
        db.session.commit()


def tomorrow_with_wishes(clinic_ids: list[int]) -> list[AppointmentAgenda]:
    """Appointments in the next two days whose patient said what to talk about (the
    worklist's mark the day before)."""
    now = utcnow()
    return list(db.session.scalars(
        select(AppointmentAgenda).join(Appointment)
        .where(Appointment.clinic_id.in_(clinic_ids), Appointment.starts_at >= now,
               Appointment.starts_at < now + timedelta(days=2),
               Appointment.status != AppointmentStatus.CANCELLED)
        .options(joinedload(AppointmentAgenda.appointment).joinedload(Appointment.patient)
                 .joinedload(PatientProfile.user))
        .order_by(Appointment.starts_at)))
