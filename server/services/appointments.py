"""Appointments: record, move, cancel, answer, and mark attendance.

Every change plans or cancels its messages in the same transaction, so a
reminder exists exactly when its appointment does. A missed appointment
creates outreach work and a kind message; it never changes anything about
the patient's treatment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, event, func, insert, select

from server.extensions import db
from server.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    Channel,
    Clinic,
    MeetingKind,
    MessagePurpose,
    PatientAnswer,
    PatientProfile,
    ReminderSettings,
    ServiceKind,
    User,
    WorkItem,
    WorkKind,
    WorkStatus,
)
from server.models.base import copy_type, utcnow
from server.notify.discreet import giveaway
from server.services import outbox, worklist
from server.services.errors import DomainError
from server.services.reminder_plan import ReminderRule, end_of_quiet, reminder_times

#: Longest free text kept from a patient's answer.
REASON_MAX = 500


class AppointmentError(DomainError):
    """An appointment change that cannot be made."""


@dataclass(frozen=True)
class AppointmentInput:
    """What staff give when they record or change an appointment."""

    starts_at: datetime
    duration_minutes: int
    service: ServiceKind
    service_name: str
    meeting: MeetingKind
    place_name: str = ""
    address: str = ""
    meet_role: str = ""
    meet_name: str = ""
    prepare: str = ""
    cancel_by: datetime | None = None
    #: A responsibility-group meeting (server/plans/meetings.py).
    is_team_meeting: bool = False
    #: The record system's identifier (system, value), for one booked through FHIR; kept
    #: from the first booking on.
    identifier: tuple[str, str] | None = None


def _rule(settings: ReminderSettings | None) -> ReminderRule:
    if settings is None:
        return ReminderRule()
    return ReminderRule(settings.evening_before_at, settings.hours_before, settings.quiet_from,
                        settings.quiet_until)


def rule_for(patient: PatientProfile) -> ReminderRule:
    """The patient's reminder settings (defaults when none are saved)."""
    return _rule(db.session.get(ReminderSettings, patient.id))


def rules_for(patient_ids: set[int]) -> dict[int, ReminderRule]:
    """Reminder settings of many patients with one query."""
    saved = {s.patient_id: s for s in db.session.scalars(
        select(ReminderSettings).where(ReminderSettings.patient_id.in_(patient_ids)))}
    return {pid: _rule(saved.get(pid)) for pid in patient_ids}


def _zone(appointment: Appointment) -> ZoneInfo:
    return ZoneInfo(appointment.clinic.timezone or "Europe/Oslo")


class _Planner:
    """Computes the notice and reminders of appointments, at one moment ``now``.

    What depends only on the patient (the channels), the clinic (its zone) or the rule
    (when the notice goes, the reminders of a start time) is computed once per planner and
    reused: an import plans thousands of appointments for the same patients, rules and
    time slots. All of it is pure, so the messages are the same as computed one by one.
    """

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._channels: dict[tuple[int, MessagePurpose], list[str]] = {}
        self._zones: dict[str, ZoneInfo] = {}
        self._notice_due: dict[tuple[ReminderRule, ZoneInfo], datetime] = {}
        self._reminders: dict[tuple[datetime, ReminderRule, ZoneInfo],
                              list[tuple[str, datetime]]] = {}

    def _channel_plan(self, patient: PatientProfile, purpose: MessagePurpose) -> list[str]:
        key = (patient.id, purpose)
        if key not in self._channels:
            self._channels[key] = outbox.channel_plan(patient, purpose)
        return self._channels[key]

    def prepare(self, patient: PatientProfile) -> None:
        """Load now what planning the patient's appointments reads of the patient and their
        clinic (``record_many`` plans while a COPY holds the connection)."""
        for purpose in (MessagePurpose.NOTICE, MessagePurpose.REMINDER):
            self._channel_plan(patient, purpose)
        _ = patient.clinic.timezone, patient.clinic.asks_before_appointment

    def plan(self, appointment: Appointment, rule: ReminderRule,
             notice: bool = True) -> list[outbox.PlannedMessage]:
        patient = appointment.patient
        params = outbox.appointment_params(appointment)
        version = appointment.plan_version
        name = appointment.clinic.timezone or "Europe/Oslo"
        zone = self._zones.get(name) or self._zones.setdefault(name, ZoneInfo(name))
        planned = []
        if notice:
            channels = self._channel_plan(patient, MessagePurpose.NOTICE)
            if channels:
                due = self._notice_due.get((rule, zone))
                if due is None:
                    due = self._notice_due[rule, zone] = end_of_quiet(self.now, rule, zone)
                planned.append(outbox.PlannedMessage(
                    f"notice:{appointment.id}:v{version}", MessagePurpose.NOTICE, patient.id,
                    appointment.id, "notice", params, channels, due))
        channels = self._channel_plan(patient, MessagePurpose.REMINDER)
        if channels:
            key = (appointment.starts_at, rule, zone)
            times = self._reminders.get(key)
            if times is None:
                times = self._reminders[key] = reminder_times(appointment.starts_at, rule,
                                                              zone, self.now)
            for label, due_at in times:
                planned.append(outbox.PlannedMessage(
                    f"reminder:{appointment.id}:v{version}:{label}", MessagePurpose.REMINDER,
                    patient.id, appointment.id, "reminder", params, channels, due_at))
        return planned


def planned_messages(appointment: Appointment, rule: ReminderRule, now: datetime,
                     notice: bool = True) -> list[outbox.PlannedMessage]:
    """The notice and reminders ``appointment`` needs, computed, not yet written.

    Keys carry the appointment's plan version, so a re-plan never collides
    with the messages it replaces.
    """
    return _Planner(now).plan(appointment, rule, notice)


def plan_messages(appointment: Appointment, notice: bool = True) -> None:
    """Plan the notice and reminders of one appointment (caller commits)."""
    outbox.insert_planned(planned_messages(appointment, rule_for(appointment.patient), utcnow(),
                                           notice))


def check(data: AppointmentInput,
          giveaway: Callable[[str], str | None] = giveaway) -> None:
    """Refuse what no appointment may hold (the length, the last time to cancel, words that
    would give away the treatment; ``giveaway`` finds those)."""
    if data.duration_minutes <= 0 or data.duration_minutes > 12 * 60:
        raise AppointmentError(_l("The length must be between 1 minute and 12 hours."), "duration")
    if data.cancel_by is not None and data.cancel_by > data.starts_at:
        raise AppointmentError(_l("The last time to cancel must be before the appointment."),
                               "cancel_by")
    for text, field in ((data.prepare, "prepare"), (data.address, "address")):
        word = giveaway(text)
        if word:
            raise AppointmentError(_l(
                "Reminders and letters must not tell what the appointment is about: please "
                "leave out \u201c%(word)s\u201d.", word=word), "discreet", field)


def _columns(data: AppointmentInput) -> dict[str, object]:
    """The columns ``data`` sets, as it is stored (free text without surrounding spaces)."""
    return {
        "starts_at": data.starts_at, "duration_minutes": data.duration_minutes,
        "service": data.service, "service_name": data.service_name.strip(),
        "meeting": data.meeting, "place_name": data.place_name.strip(),
        "address": data.address.strip(), "meet_role": data.meet_role.strip(),
        "meet_name": data.meet_name.strip(), "prepare": data.prepare.strip(),
        "cancel_by": data.cancel_by, "is_team_meeting": data.is_team_meeting,
    }


def _apply(appointment: Appointment, data: AppointmentInput) -> None:
    check(data)
    for column, value in _columns(data).items():
        setattr(appointment, column, value)


def _preallocated_ids(count: int) -> list[int]:
    """On PostgreSQL, take ids for a large batch from the sequence in one query.

    With ids known, the ORM inserts the batch with a pipelined executemany
    instead of INSERT ... RETURNING, several times faster for an import.
    """
    if count < 100 or db.session.get_bind().dialect.name != "postgresql":
        return []
    return list(db.session.scalars(
        select(func.nextval("appointment_id_seq")).select_from(func.generate_series(1, count))
    ))[::-1]


def create(patient: PatientProfile, data: AppointmentInput, by: User | None) -> Appointment:
    """Record an appointment and plan its messages in the same transaction."""
    return create_many([(patient, data)], by)[0]


def create_many(items: list[tuple[PatientProfile, AppointmentInput]], by: User | None,
                commit: bool = True) -> list[Appointment]:
    """Record several appointments and plan all their messages in one transaction.

    Either every appointment and message is stored, or none (a CSV import).
    ``commit=False`` leaves the transaction to the caller.
    """
    now = utcnow()
    created: list[Appointment] = []
    ids = _preallocated_ids(len(items))
    for patient, data in items:
        if data.starts_at <= now:
            raise AppointmentError(_l("The appointment must be in the future."), "past")
        appointment = Appointment(patient=patient, clinic_id=patient.clinic_id,
                                  clinic=patient.clinic, created_by=by, plan_version=1)
        if ids:
            appointment.id = ids.pop()
        if data.identifier is not None:
            appointment.external_system, appointment.external_id = data.identifier
        _apply(appointment, data)
        db.session.add(appointment)
        created.append(appointment)
    db.session.flush()
    rules = rules_for({a.patient_id for a in created})
    planned: list[outbox.PlannedMessage] = []
    for appointment in created:
        planned.extend(planned_messages(appointment, rules[appointment.patient_id], now))
    outbox.insert_planned(planned)
    if commit:
        db.session.commit()
    return created


class _Recorded(NamedTuple):
    """What planning reads of an appointment written by ``record_many``: the same attributes
    as an Appointment's, without an ORM object (making and tracking 100,000 of them was most
    of an import's time). A named tuple: the cheapest to make."""

    id: int
    patient: PatientProfile
    clinic: Clinic
    starts_at: datetime
    address: str
    meeting: MeetingKind
    prepare: str
    service: ServiceKind
    plan_version: int = 1


def _bulk_insert(rows: list[dict[str, object]], each: Callable[[int, int], None]) -> None:
    """Insert appointment rows in the caller's transaction, calling ``each(position, id)``
    for every row in order once its id is known.

    On PostgreSQL ``each`` runs while the COPY is open: the server checks and indexes the
    rows sent so far while Python does the caller's work (planning the messages), instead
    of the two taking turns (about a second less for 100,000 on 2 cores).

    On PostgreSQL: ids from the sequence in one query, then ``COPY ... FROM STDIN (FORMAT
    BINARY)`` (psycopg's ``Cursor.copy``, the types from ``models.base.copy_type``). An
    executemany INSERT would be one statement per row, and
    SQLAlchemy's "insertmanyvalues" (pages of ``INSERT ... VALUES (...), (...) RETURNING``)
    spends about 0.3 s per page of 1,000 rows in psycopg turning the long statement's
    placeholders into PostgreSQL's: half a minute for 100,000. COPY takes every column, so
    the columns' defaults (status, version, created_at, ...) are filled here from the table's
    own ``Column.default``s, each called per row as a flush calls them, and every value goes
    through its type's bind processing (enums to their values, ``UTCDateTime`` to naive UTC).

    Elsewhere (SQLite) that executemany with RETURNING, which sqlite3 runs quickly.
    """
    table = Appointment.__table__
    if db.session.get_bind().dialect.name != "postgresql":
        for position, appointment_id in enumerate(db.session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)):
            each(position, appointment_id)
        return
    ids = sorted(db.session.scalars(
        select(func.nextval("appointment_id_seq")).select_from(func.generate_series(1, len(rows)))
    ))
    dialect = db.session.get_bind().dialect
    given = rows[0].keys()  # every row has the same keys (record_many)
    # Each COPY row starts as a copy of ``template``, which holds the constant defaults
    # (bind-processed once); then the row's own values and the defaults that are called per
    # row, as a flush calls them, go in at their positions through the type's bind processing
    # (enums to their values, UTCDateTime to naive UTC).
    # A column with neither a value nor a Python default is left out, as a flush leaves it
    # out of its INSERT, so that the database's own default (or NULL) applies.
    template: list[object] = []
    from_row: list[tuple[int, str, Any]] = []
    called: list[tuple[int, Any, Any]] = []
    names: list[str] = []
    types: list[str] = []
    id_at = 0
    for column in table.columns:
        process = column.type.bind_processor(dialect)
        default = column.default
        at, value = len(names), None
        if column.key == "id":
            id_at = at
        elif column.key in given:
            from_row.append((at, column.key, process))
        elif default is None:
            continue
        elif default.is_callable:  # SQLAlchemy has wrapped it to take a context
            called.append((at, default.arg, process))
        elif default.is_scalar:
            value = process(default.arg) if process is not None else default.arg
        else:  # a SQL expression or a sequence: only an INSERT can evaluate it
            raise NotImplementedError(f"COPY cannot fill the default of {column}")
        names.append(column.key)
        types.append(copy_type(column, dialect))
        template.append(value)
    connection = db.session.connection()
    raw = connection.connection.driver_connection

    def refuse(*_args: object) -> None:
        # Without this, a query from ``each`` (a lazy load, say) would wait forever for the
        # connection the COPY holds; with it, the import fails and says why.
        raise RuntimeError("a query while the COPY of appointments is open: load it before")

    event.listen(connection, "before_cursor_execute", refuse)
    try:
        with raw.cursor() as cursor, cursor.copy(
                f"COPY appointment ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for position, (appointment_id, row) in enumerate(zip(ids, rows, strict=True)):
                values = template.copy()
                values[id_at] = appointment_id
                for at, key, process in from_row:
                    value = row[key]
                    values[at] = process(value) if process is not None and value is not None \
                        else value
                for at, make, process in called:
                    value = make(None)
                    values[at] = process(value) if process is not None and value is not None \
                        else value
                copy.write_row(values)
                each(position, appointment_id)
    finally:
        event.remove(connection, "before_cursor_execute", refuse)


def record_many(items: list[tuple[PatientProfile, AppointmentInput]], by: User | None) -> int:
    """Record appointments and plan their messages in one transaction, as ``create_many``
    does, and commit; returns how many. For an import of thousands: the rows are written
    with bulk INSERTs and not loaded into the session, so no Appointment is returned.

    What is stored is what ``create_many`` stores: the same checks in the same order (the
    first failing item raises and nothing is written), the same columns and column
    defaults, ids in the order of ``items``, the same messages with the same keys.
    """
    now = utcnow()
    by_id = by.id if by is not None else None
    # An import repeats its addresses and "what to bring" thousands of times: each text is
    # searched for giveaway words once.
    words = functools.cache(giveaway)
    rows = []
    for patient, data in items:
        if data.starts_at <= now:
            raise AppointmentError(_l("The appointment must be in the future."), "past")
        check(data, words)
        external_system, external_id = data.identifier or (None, None)
        rows.append({"patient_id": patient.id, "clinic_id": patient.clinic_id,
                     "created_by_id": by_id, "plan_version": 1,
                     "external_system": external_system, "external_id": external_id,
                     **_columns(data)})
    if not rows:
        return 0
    rules = rules_for({patient.id for patient, _data in items})
    planner = _Planner(now)
    planned: list[outbox.PlannedMessage] = []

    def plan(position: int, appointment_id: int) -> None:
        patient, data = items[position]
        row = rows[position]
        recorded = _Recorded(appointment_id, patient, patient.clinic, data.starts_at,
                             str(row["address"]), data.meeting, str(row["prepare"]),
                             data.service)
        planned.extend(planner.plan(recorded, rules[patient.id]))  # type: ignore[arg-type]

    for patient in {id(patient): patient for patient, _data in items}.values():
        planner.prepare(patient)
    _bulk_insert(rows, plan)
    outbox.insert_planned(planned)
    db.session.commit()
    return len(rows)


def update(appointment: Appointment, data: AppointmentInput) -> Appointment:
    """Change an appointment. A new time re-plans its reminders; other edits keep them."""
    if appointment.is_cancelled:
        raise AppointmentError(_l("This appointment is cancelled and cannot be changed."),
                               "cancelled")
    moved = data.starts_at != appointment.starts_at
    if moved and data.starts_at <= utcnow():
        raise AppointmentError(_l("The appointment must be in the future."), "past")
    _apply(appointment, data)
    if moved:
        outbox.cancel_pending(appointment, (MessagePurpose.REMINDER, MessagePurpose.NOTICE))
        appointment.plan_version += 1
        appointment.answer = PatientAnswer.NONE
        appointment.answered_at = None
        db.session.flush()
        plan_messages(appointment)
    db.session.commit()
    return appointment


def cancel(appointment: Appointment) -> None:
    """Cancel an appointment and every message about it not yet sent."""
    appointment.status = AppointmentStatus.CANCELLED
    outbox.cancel_pending(appointment, (MessagePurpose.REMINDER, MessagePurpose.NOTICE))
    db.session.commit()


def outreach_methods(patient: PatientProfile) -> list[str]:
    """Ways to reach the patient after a no-show, in the patient's own order."""
    methods: list[str] = []
    if patient.user.phone:
        methods.append("call")
    for channel in patient.contact_channels:
        if channel == Channel.SMS.value and patient.user.phone:
            methods.append("sms")
        elif channel == Channel.LETTER.value and patient.postal_address:
            methods.append("letter")
    if patient.postal_address:
        methods.append("home_visit")
    from server.services.relatives import no_show_contacts

    if no_show_contacts(patient):
        methods.append("relative")  # only with the patient's "may be contacted" scope
    return list(dict.fromkeys(methods))


def mark_attendance(appointment: Appointment, attendance: Attendance, by: User) -> None:
    """Record attended or missed. A miss becomes outreach work and a kind message."""
    if appointment.is_cancelled:
        raise AppointmentError(_l("This appointment is cancelled."), "cancelled")
    if appointment.starts_at > utcnow():
        raise AppointmentError(_l("Attendance can be marked once the appointment has started."),
                               "future")
    previous = appointment.attendance
    appointment.attendance = attendance
    if attendance is Attendance.MISSED and previous is not Attendance.MISSED:
        patient = appointment.patient
        db.session.add(WorkItem(
            clinic_id=appointment.clinic_id, patient_id=patient.id, appointment=appointment,
            kind=WorkKind.OUTREACH, details={"methods": outreach_methods(patient)},
        ))
        outbox.enqueue(
            key=f"no_show:{appointment.id}", purpose=MessagePurpose.NO_SHOW, patient=patient,
            appointment=appointment, template="no_show",
            params=outbox.appointment_params(appointment),
            due_at=end_of_quiet(utcnow(), rule_for(patient), _zone(appointment)),
        )
    if attendance is Attendance.ATTENDED and previous is not Attendance.ATTENDED:
        from server.services import feedback

        feedback.invite_after(appointment)
    db.session.commit()


def answer(appointment: Appointment, choice: PatientAnswer, reason: str = "",
           call_me: bool = False, via: str = "app", commit: bool = True,
           call_when: str = "") -> None:
    """The patient's answer, shown to the clinic at once on the worklist."""
    if appointment.is_cancelled:
        raise AppointmentError(_l("This appointment has been cancelled."), "cancelled")
    if appointment.starts_at <= utcnow():
        raise AppointmentError(_l("This appointment has already started."), "past")
    if len(reason) > REASON_MAX:
        raise AppointmentError(_l("Please keep the reason under %(n)d characters.", n=REASON_MAX),
                               "too_long")
    previous = appointment.answer
    appointment.answer = choice
    appointment.answer_reason = reason.strip()
    appointment.call_me = call_me
    appointment.answered_at = utcnow()
    if choice is PatientAnswer.CANNOT_COME and previous is not PatientAnswer.CANNOT_COME:
        # No reminders for an appointment the patient cannot come to ...
        outbox.cancel_pending(appointment, (MessagePurpose.REMINDER,))
    elif previous is PatientAnswer.CANNOT_COME and choice is not PatientAnswer.CANNOT_COME:
        # ... until they change their answer back: the reminders still ahead are planned again.
        appointment.plan_version += 1
        db.session.flush()
        plan_messages(appointment, notice=False)
    details = {"answer": choice.value, "reason": appointment.answer_reason,
               "call_me": call_me, "via": via}
    if call_me and call_when.strip():
        details["call_when"] = call_when.strip()[:100]  # when the patient would like the call
    waiting = db.session.scalar(select(WorkItem).where(
        WorkItem.appointment_id == appointment.id, WorkItem.kind == WorkKind.ANSWER,
        WorkItem.status == WorkStatus.OPEN).limit(1))
    if waiting is not None:
        # One item per appointment on the worklist: a changed answer updates it.
        waiting.details = {**details, "changed_from": waiting.details.get("answer")}
        worklist.note_update(waiting, "answer_changed")
    else:
        db.session.add(WorkItem(
            clinic_id=appointment.clinic_id, patient_id=appointment.patient_id,
            appointment=appointment, kind=WorkKind.ANSWER, details=details))
    if commit:
        db.session.commit()


def for_patient(patient: PatientProfile) -> list[Appointment]:
    """Every appointment of the patient, newest first (the staff view)."""
    return list(db.session.scalars(
        select(Appointment).where(Appointment.patient_id == patient.id)
        .order_by(Appointment.starts_at.desc()).limit(200)
    ))


def next_for_patients(patient_ids: list[int]) -> dict[int, datetime]:
    """The start of each patient's next appointment that is not cancelled, in one query
    (the staff search shows it, so namesakes can be told apart)."""
    if not patient_ids:
        return {}
    rows = db.session.execute(
        select(Appointment.patient_id, func.min(Appointment.starts_at))
        .where(Appointment.patient_id.in_(patient_ids), Appointment.starts_at >= utcnow(),
               Appointment.status != AppointmentStatus.CANCELLED)
        .group_by(Appointment.patient_id))
    return {patient_id: starts_at.replace(tzinfo=UTC) if starts_at.tzinfo is None else starts_at
            for patient_id, starts_at in rows}


def upcoming_for(patient: PatientProfile) -> list[Appointment]:
    """Appointments not yet over, soonest first (cancelled ones included, marked)."""
    now = utcnow()
    rows = db.session.scalars(_upcoming_statement(),
                              {"patient_id": patient.id, "since": now - timedelta(hours=12)})
    return [a for a in rows if a.ends_at >= now]


@cache
def _upcoming_statement() -> Select[tuple[Appointment]]:
    """Built once per process (the patient's home runs it on every visit)."""
    return (select(Appointment)
            .where(Appointment.patient_id == bindparam("patient_id"),
                   Appointment.starts_at >= bindparam("since"))
            .order_by(Appointment.starts_at))


def past_for(patient: PatientProfile, limit: int = 50) -> list[Appointment]:
    """Appointments that are over, newest first."""
    now = utcnow()
    rows = db.session.scalars(
        select(Appointment).where(Appointment.patient_id == patient.id,
                                  Appointment.starts_at < now)
        .order_by(Appointment.starts_at.desc()).limit(limit)
    )
    return [a for a in rows if a.ends_at < now]
