"""The patient's own choices for reminders: channel order, lead times, quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Appointment,
    AppointmentStatus,
    MessagePurpose,
    PatientAnswer,
    PatientProfile,
    ReminderSettings,
)
from server.models.base import utcnow
from server.services import outbox
from server.services.errors import DomainError


class SettingsError(DomainError):
    """Settings that cannot be saved."""


@dataclass(frozen=True)
class Choices:
    channels: list[str]
    evening_before_at: time | None
    hours_before: int | None
    quiet_from: time
    quiet_until: time


def current(patient: PatientProfile) -> ReminderSettings:
    """Saved settings, or the defaults (not saved)."""
    return db.session.get(ReminderSettings, patient.id) or ReminderSettings(
        patient_id=patient.id, evening_before_at=time(18, 0), hours_before=2,
        quiet_from=time(22, 0), quiet_until=time(8, 0))


def save(patient: PatientProfile, choices: Choices) -> None:
    """Store the choices and re-plan the reminders of upcoming appointments. Commits."""
    offered = set(patient.clinic.offered_channels or [])
    channels = [c for c in choices.channels if c]
    if len(set(channels)) != len(channels):
        raise SettingsError(_l("You chose the same way twice. Choose each way once, or "
                               "“Nothing”."), "twice")
    if not channels:
        raise SettingsError(_l("Choose at least one way to reach you."), "no_channel")
    if any(c not in offered for c in channels):
        raise SettingsError(_l("Your clinic does not offer that way of reaching you."),
                            "not_offered")
    if choices.quiet_from == choices.quiet_until:
        raise SettingsError(_l("Quiet hours must start and end at different times."), "quiet")
    settings = db.session.get(ReminderSettings, patient.id)
    if settings is None:
        settings = ReminderSettings(patient_id=patient.id)
        db.session.add(settings)
    settings.evening_before_at = choices.evening_before_at
    settings.hours_before = choices.hours_before
    settings.quiet_from = choices.quiet_from
    settings.quiet_until = choices.quiet_until
    patient.contact_channels = channels
    db.session.flush()
    replan_upcoming(patient)
    db.session.commit()


def replan_upcoming(patient: PatientProfile) -> None:
    """Plan the reminders of upcoming appointments again, after a change of channels or
    times. Appointments the patient said they cannot come to stay without reminders."""
    from server.services.appointments import planned_messages, rule_for

    upcoming = db.session.scalars(
        select(Appointment).where(Appointment.patient_id == patient.id,
                                     Appointment.status == AppointmentStatus.SCHEDULED,
                                     Appointment.starts_at > utcnow(),
                                     Appointment.answer != PatientAnswer.CANNOT_COME)
    ).all()
    rule, now = rule_for(patient), utcnow()
    planned: list[outbox.PlannedMessage] = []
    for appointment in upcoming:
        outbox.cancel_pending(appointment, (MessagePurpose.REMINDER,))
        appointment.plan_version += 1
        planned.extend(planned_messages(appointment, rule, now, notice=False))
    db.session.flush()
    outbox.insert_planned(planned)
