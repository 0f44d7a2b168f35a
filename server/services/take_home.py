"""Take-home requests: ask, withdraw, decide, and what follows a decision.

The clinic's rules are guidance, never a wall: a request beyond the usual
maximum or with short notice is accepted and marked for the clinic, because
the doctor decides. What the software does refuse is input that cannot be a
request at all (a start in the past, an end before the start, more than 90
days, a period that overlaps one already asked for or granted).

Each change is one transaction. A decision is a conditional UPDATE on an
undecided request, so of two doctors deciding at once exactly one wins and
the other is told; a decision and its message to the patient commit together.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.extensions import db
from server.models import (
    DECIDED,
    GRANTED,
    UNDECIDED,
    Abroad,
    Appointment,
    ArrangementChange,
    Attendance,
    Clinic,
    MessagePurpose,
    PatientProfile,
    PeriodReason,
    PickupPlace,
    PickupPlan,
    RequestKind,
    RequestStatus,
    TakeHomeRequest,
    TakeHomeRules,
    User,
)
from server.models.base import utcnow
from server.services import outbox
from server.services.errors import DomainError
from server.services.local_time import oslo_today

#: Longest period the software accepts in one request.
MAX_PERIOD_DAYS = 90
#: Text limits, in characters.
EXPLANATION_MAX = 1000
NOTE_MAX = 1000
PLACE_NAME_MAX = 200
DECISION_TEXT_MAX = 2000
RULES_TEXT_MAX = 4000


class TakeHomeError(DomainError):
    """A request or decision that cannot be stored as given.

    ``field`` names the form field the message belongs to.
    """



class DecisionConflict(TakeHomeError):
    """Someone else decided, or the patient withdrew, before this decision was saved."""


def today_for(clinic: Clinic) -> date:
    """The clinic's calendar day."""
    return oslo_today(clinic.timezone or "Europe/Oslo")


def new_client_key() -> str:
    """The key a request form carries, so a double tap or a resend stores one request."""
    return secrets.token_hex(16)


# --- rules and plan --------------------------------------------------------------------------

def rules_for(clinic: Clinic) -> TakeHomeRules:
    """The clinic's rules; defaults (not stored) until a clinic admin saves them."""
    rules = db.session.get(TakeHomeRules, clinic.id)
    if rules is None:
        rules = TakeHomeRules(clinic_id=clinic.id, rules_text="", notice_days=14,
                              usual_max_days=14,
                              allowed_places=[p.value for p in PickupPlace])
    return rules


@dataclass(frozen=True)
class RulesInput:
    rules_text: str
    notice_days: int
    usual_max_days: int
    allowed_places: list[PickupPlace]


def save_rules(clinic: Clinic, data: RulesInput, by: User) -> TakeHomeRules:
    if not data.allowed_places:
        raise TakeHomeError(_l("Choose at least one pickup place."), "no_places",
                            "allowed_places")
    if len(data.rules_text) > RULES_TEXT_MAX:
        raise TakeHomeError(_l("Please keep it under %(max)d characters.", max=RULES_TEXT_MAX),
                            "too_long", "rules_text")
    rules = db.session.get(TakeHomeRules, clinic.id) or TakeHomeRules(clinic_id=clinic.id)
    rules.rules_text = data.rules_text.strip()
    rules.notice_days = data.notice_days
    rules.usual_max_days = data.usual_max_days
    rules.allowed_places = [p.value for p in data.allowed_places]
    rules.updated_at = utcnow()
    rules.updated_by_id = by.id
    db.session.add(rules)
    db.session.commit()
    return rules


def plan_for(patient: PatientProfile) -> PickupPlan | None:
    return db.session.get(PickupPlan, patient.id)


@dataclass(frozen=True)
class PlanInput:
    place: PickupPlace
    place_name: str
    weekdays: list[int]
    days_per_pickup: int
    note: str = ""


def save_plan(patient: PatientProfile, data: PlanInput, by: User) -> PickupPlan:
    """Staff set the regular pickup plan."""
    if not data.weekdays:
        raise TakeHomeError(_l("Choose at least one pickup day."), "no_days", "weekdays")
    plan = plan_for(patient) or PickupPlan(patient_id=patient.id)
    plan.place = data.place
    plan.place_name = data.place_name.strip()[:PLACE_NAME_MAX]
    plan.weekdays = sorted(set(data.weekdays))
    plan.days_per_pickup = data.days_per_pickup
    plan.note = data.note.strip()[:500]
    plan.updated_by_id = by.id
    plan.updated_at = utcnow()
    db.session.add(plan)
    db.session.commit()
    return plan


def granted_periods(patient: PatientProfile, from_day: date) -> list[TakeHomeRequest]:
    """Approved take-home periods that have not ended: the entries they add to the plan."""
    return list(db.session.scalars(
        select(TakeHomeRequest).where(
            TakeHomeRequest.patient_id == patient.id,
            TakeHomeRequest.kind == RequestKind.PERIOD,
            TakeHomeRequest.status.in_(GRANTED),
            TakeHomeRequest.approved_last_day >= from_day,
        ).order_by(TakeHomeRequest.approved_first_day)
    ))


# --- asking ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestInput:
    """What the patient gives. Period requests use dates, reason and place;
    arrangement requests use ``change`` and ``explanation``."""

    kind: RequestKind
    client_key: str
    first_day: date | None = None
    last_day: date | None = None
    reason: PeriodReason | None = None
    change: ArrangementChange | None = None
    explanation: str = ""
    place: PickupPlace | None = None
    place_name: str = ""
    abroad: Abroad = Abroad.NO
    note: str = ""
    reassessment_of_id: int | None = None


@dataclass(frozen=True)
class Guidance:
    """Where a request goes beyond the clinic's usual rules. Never a refusal."""

    over_usual_max: bool = False
    short_notice: bool = False

    @property
    def any(self) -> bool:
        return self.over_usual_max or self.short_notice


def guidance(rules: TakeHomeRules, data: RequestInput, today: date) -> Guidance:
    if data.kind is not RequestKind.PERIOD or data.first_day is None or data.last_day is None:
        return Guidance()
    days = (data.last_day - data.first_day).days + 1
    return Guidance(over_usual_max=days > rules.usual_max_days,
                    short_notice=(data.first_day - today).days < rules.notice_days)


def _overlapping(patient: PatientProfile, first: date, last: date,
                 ignore_id: int | None) -> TakeHomeRequest | None:
    query = select(TakeHomeRequest).where(
        TakeHomeRequest.patient_id == patient.id,
        TakeHomeRequest.kind == RequestKind.PERIOD,
        or_(
            (TakeHomeRequest.status.in_(UNDECIDED)
             & (TakeHomeRequest.first_day <= last) & (TakeHomeRequest.last_day >= first)),
            (TakeHomeRequest.status.in_(GRANTED)
             & (TakeHomeRequest.approved_first_day <= last)
             & (TakeHomeRequest.approved_last_day >= first)),
        ),
    )
    if ignore_id is not None:
        query = query.where(TakeHomeRequest.id != ignore_id)
    return db.session.scalars(query.limit(1)).first()


def _check_text(value: str, limit: int, field: str) -> None:
    if len(value) > limit:
        raise TakeHomeError(_l("Please keep it under %(max)d characters.", max=limit),
                            "too_long", field)


def validate(patient: PatientProfile, data: RequestInput, today: date) -> None:
    """Refuse what cannot be a request; raises TakeHomeError naming the field."""
    _check_text(data.explanation, EXPLANATION_MAX, "explanation")
    _check_text(data.note, NOTE_MAX, "note")
    _check_text(data.place_name, PLACE_NAME_MAX, "place_name")
    if data.kind is RequestKind.ARRANGEMENT:
        if data.change is None:
            raise TakeHomeError(_l("Choose what you want to change."), "no_change", "change")
        if not data.explanation.strip():
            raise TakeHomeError(_l("Please tell us why."), "no_reason", "explanation")
        return
    if data.first_day is None or data.last_day is None:
        raise TakeHomeError(_l("Enter the first and the last day."), "no_dates", "first_day")
    if data.first_day < today:
        raise TakeHomeError(_l("The first day has passed. Choose today or a later day."),
                            "start_past", "first_day")
    if data.last_day < data.first_day:
        raise TakeHomeError(_l("The last day must be on or after the first day."),
                            "end_before_start", "last_day")
    if (data.last_day - data.first_day).days + 1 > MAX_PERIOD_DAYS:
        raise TakeHomeError(
            _l("One request can cover at most %(max)d days. For a longer time, talk with "
               "your clinic.", max=MAX_PERIOD_DAYS), "too_long_period", "last_day")
    if data.reason is None:
        raise TakeHomeError(_l("Choose the reason for the request."), "no_reason", "reason")
    if data.place is None:
        raise TakeHomeError(_l("Choose where you want to pick up."), "no_place", "place")
    rules = rules_for(patient.clinic)
    if data.place.value not in rules.allowed_places:
        raise TakeHomeError(_l("Your clinic does not offer this pickup place. Choose another."),
                            "place_not_allowed", "place")
    if data.place is PickupPlace.TRAVEL_PHARMACY and not data.place_name.strip():
        raise TakeHomeError(_l("Tell us which pharmacy, or at least the town."),
                            "no_place_name", "place_name")
    clash = _overlapping(patient, data.first_day, data.last_day, data.reassessment_of_id)
    if clash is not None:
        raise TakeHomeError(
            _l("These days overlap another request that is waiting or approved. Change the "
               "dates, or withdraw the other request first."), "overlap", "first_day")


def existing(patient: PatientProfile, client_key: str) -> TakeHomeRequest | None:
    return db.session.scalar(select(TakeHomeRequest).where(
        TakeHomeRequest.patient_id == patient.id, TakeHomeRequest.client_key == client_key))


def submit(patient: PatientProfile, data: RequestInput, today: date | None = None,
           ask_anyway: bool = False) -> tuple[TakeHomeRequest | None, Guidance]:
    """Store a request once per ``client_key``.

    Returns (request, guidance). When the request goes beyond the clinic's
    usual rules and the patient has not yet said "ask anyway", nothing is
    stored and (None, guidance) comes back so the form can say so kindly.
    """
    if not data.client_key or len(data.client_key) > 64:
        raise TakeHomeError(_l("This form has expired. Please open it again."), "no_key")
    found = existing(patient, data.client_key)
    if found is not None:
        return found, Guidance()
    today = today or today_for(patient.clinic)
    if data.reassessment_of_id is not None:
        original = db.session.get(TakeHomeRequest, data.reassessment_of_id)
        if original is None or original.patient_id != patient.id or \
                original.status not in DECIDED:
            raise TakeHomeError(_l("Only a decided request can be assessed again."),
                                "not_decided")
    validate(patient, data, today)
    rules = rules_for(patient.clinic)
    advice = guidance(rules, data, today)
    if advice.any and not ask_anyway:
        return None, advice
    request = TakeHomeRequest(
        patient_id=patient.id, clinic_id=patient.clinic_id, kind=data.kind,
        status=RequestStatus.SUBMITTED, client_key=data.client_key,
        first_day=data.first_day if data.kind is RequestKind.PERIOD else None,
        last_day=data.last_day if data.kind is RequestKind.PERIOD else None,
        reason=data.reason if data.kind is RequestKind.PERIOD else None,
        change=data.change if data.kind is RequestKind.ARRANGEMENT else None,
        explanation=data.explanation.strip(),
        place=data.place if data.kind is RequestKind.PERIOD else None,
        place_name=data.place_name.strip(),
        abroad=data.abroad if data.kind is RequestKind.PERIOD else Abroad.NO,
        note=data.note.strip(), over_usual_max=advice.over_usual_max,
        short_notice=advice.short_notice, reassessment_of_id=data.reassessment_of_id,
    )
    db.session.add(request)
    try:
        db.session.commit()
    except IntegrityError:
        # The same key arrived twice at once (a double tap racing itself).
        db.session.rollback()
        found = existing(patient, data.client_key)
        if found is None:
            raise
        return found, Guidance()
    return request, advice


def requests_for(patient: PatientProfile) -> list[TakeHomeRequest]:
    """Every request of the patient, newest first: the history stays visible."""
    return list(db.session.scalars(
        select(TakeHomeRequest).where(TakeHomeRequest.patient_id == patient.id)
        .options(joinedload(TakeHomeRequest.decided_by))
        .order_by(TakeHomeRequest.created_at.desc(), TakeHomeRequest.id.desc())
    ))


def withdraw(request: TakeHomeRequest) -> None:
    """The patient withdraws an undecided request."""
    done = db.session.execute(
        update(TakeHomeRequest)
        .where(TakeHomeRequest.id == request.id, TakeHomeRequest.status.in_(UNDECIDED))
        .values(status=RequestStatus.WITHDRAWN, withdrawn_at=utcnow())
    ).rowcount
    db.session.commit()
    db.session.refresh(request)
    if not done:
        raise TakeHomeError(_l("This request has already been decided, so it cannot be "
                               "withdrawn. You can ask for a new assessment."), "decided")


def confirm_storage(request: TakeHomeRequest) -> None:
    """The patient has read the advice on safe storage."""
    if request.is_granted and request.storage_confirmed_at is None:
        request.storage_confirmed_at = utcnow()
        db.session.commit()


def mark_decision_seen(request: TakeHomeRequest) -> None:
    """The patient opened a decided request: it is no longer "new" on home."""
    if request.status in DECIDED and request.decision_seen_at is None:
        request.decision_seen_at = utcnow()
        db.session.commit()


def unseen_decision_conditions(patient_id: int) -> list[ColumnElement[bool]]:
    """Decided requests the patient has not opened since the decision."""
    return [TakeHomeRequest.patient_id == patient_id, TakeHomeRequest.status.in_(DECIDED),
            TakeHomeRequest.decision_seen_at.is_(None)]


def unseen_decisions(patient: PatientProfile) -> list[TakeHomeRequest]:
    """Decided requests the patient has not opened since the decision, newest first."""
    return list(db.session.scalars(_unseen_statement(), {"patient_id": patient.id}))


@cache
def _unseen_statement() -> Select[tuple[TakeHomeRequest]]:
    """Built once per process (home runs it whenever there is a decision to show)."""
    return (select(TakeHomeRequest).where(*unseen_decision_conditions(bindparam("patient_id")))
            .order_by(TakeHomeRequest.decided_at.desc()).limit(5))


# --- deciding --------------------------------------------------------------------------------

class Outcome:
    APPROVE = "approve"
    PARTLY = "partly"
    DECLINE = "decline"


@dataclass(frozen=True)
class DecisionInput:
    outcome: str
    reason: str
    next_time: str = ""
    first_day: date | None = None
    last_day: date | None = None
    place: PickupPlace | None = None
    place_name: str = ""


_STATUS_FOR = {Outcome.APPROVE: RequestStatus.APPROVED,
               Outcome.PARTLY: RequestStatus.PARTLY_APPROVED,
               Outcome.DECLINE: RequestStatus.DECLINED}


def start_review(request: TakeHomeRequest) -> None:
    """A decider opened the request: the patient sees it is being looked at."""
    if request.status is RequestStatus.SUBMITTED:
        db.session.execute(
            update(TakeHomeRequest)
            .where(TakeHomeRequest.id == request.id,
                   TakeHomeRequest.status == RequestStatus.SUBMITTED)
            .values(status=RequestStatus.UNDER_REVIEW, review_started_at=utcnow()))
        db.session.commit()
        db.session.refresh(request)


def _approved_values(request: TakeHomeRequest, data: DecisionInput) -> dict[str, object]:
    if data.outcome == Outcome.DECLINE:
        return {}
    if request.kind is RequestKind.ARRANGEMENT:
        return {}
    if data.outcome == Outcome.APPROVE:
        return {"approved_first_day": request.first_day, "approved_last_day": request.last_day,
                "approved_place": request.place, "approved_place_name": request.place_name}
    first = data.first_day or request.first_day
    last = data.last_day or request.last_day
    if first is None or last is None or last < first:
        raise TakeHomeError(_l("The last day must be on or after the first day."),
                            "end_before_start", "last_day")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise TakeHomeError(_l("One request can cover at most %(max)d days. For a longer time, "
                               "talk with your clinic.", max=MAX_PERIOD_DAYS),
                            "too_long_period", "last_day")
    place = data.place or request.place
    place_name = data.place_name.strip() or (request.place_name if place is request.place else "")
    return {"approved_first_day": first, "approved_last_day": last, "approved_place": place,
            "approved_place_name": place_name}


def decide(request: TakeHomeRequest, data: DecisionInput, by: User) -> TakeHomeRequest:
    """Record a decision and tell the patient. Raises DecisionConflict when too late."""
    if data.outcome not in _STATUS_FOR:
        raise TakeHomeError(_l("Choose a decision."), "no_outcome", "outcome")
    if not data.reason.strip():
        raise TakeHomeError(_l("Write the reason. The patient will read it."), "no_reason",
                            "reason")
    _check_text(data.reason, DECISION_TEXT_MAX, "reason")
    _check_text(data.next_time, DECISION_TEXT_MAX, "next_time")
    _check_text(data.place_name, PLACE_NAME_MAX, "place_name")
    values = _approved_values(request, data)
    now = utcnow()
    won = db.session.execute(
        update(TakeHomeRequest)
        .where(TakeHomeRequest.id == request.id, TakeHomeRequest.status.in_(UNDECIDED))
        .values(status=_STATUS_FOR[data.outcome], decided_at=now, decided_by_id=by.id,
                decision_reason=data.reason.strip(),
                next_time=data.next_time.strip() if data.outcome != Outcome.APPROVE else "",
                **values)
    ).rowcount
    if not won:
        db.session.rollback()
        db.session.refresh(request)
        if request.status is RequestStatus.WITHDRAWN:
            raise DecisionConflict(
                _l("The patient withdrew this request while you were deciding. Nothing was "
                   "saved."), "withdrawn")
        raise DecisionConflict(
            _l("Someone else decided this request while you were deciding. Nothing was "
               "saved; their decision is shown below."), "already_decided")
    patient = request.patient
    outbox.enqueue(key=f"decision:{request.id}", purpose=MessagePurpose.DECISION,
                   patient=patient, template="decision", params={})
    db.session.commit()
    db.session.refresh(request)
    return request


def mark_certificate_ready(request: TakeHomeRequest) -> None:
    if request.needs_certificate and request.is_granted and request.certificate_ready_at is None:
        request.certificate_ready_at = utcnow()
        db.session.commit()


# --- for staff -------------------------------------------------------------------------------

def open_for_clinics(clinic_ids: list[int], limit: int = 300) -> list[TakeHomeRequest]:
    """Requests needing the clinic: undecided ones (soonest start first), then granted
    Schengen trips whose certificate is not ready."""
    undecided = list(db.session.scalars(
        select(TakeHomeRequest)
        .where(TakeHomeRequest.clinic_id.in_(clinic_ids),
               TakeHomeRequest.status.in_(UNDECIDED))
        .options(joinedload(TakeHomeRequest.patient).joinedload(PatientProfile.user))
        .order_by(TakeHomeRequest.first_day.is_(None), TakeHomeRequest.first_day,
                  TakeHomeRequest.created_at, TakeHomeRequest.id)
        .limit(limit)
    ))
    certificates = list(db.session.scalars(
        select(TakeHomeRequest)
        .where(TakeHomeRequest.clinic_id.in_(clinic_ids),
               TakeHomeRequest.status.in_(GRANTED),
               TakeHomeRequest.abroad == Abroad.SCHENGEN,
               TakeHomeRequest.certificate_ready_at.is_(None))
        .options(joinedload(TakeHomeRequest.patient).joinedload(PatientProfile.user))
        .order_by(TakeHomeRequest.approved_first_day, TakeHomeRequest.id)
        .limit(limit)
    ))
    return undecided + certificates


def earlier_requests(request: TakeHomeRequest, limit: int = 20) -> list[TakeHomeRequest]:
    return list(db.session.scalars(
        select(TakeHomeRequest)
        .where(TakeHomeRequest.patient_id == request.patient_id,
               TakeHomeRequest.id != request.id)
        .options(joinedload(TakeHomeRequest.decided_by))
        .order_by(TakeHomeRequest.created_at.desc()).limit(limit)
    ))


def recent_attendance(patient: PatientProfile, months: int = 3,
                      limit: int = 40) -> list[Appointment]:
    """Appointments of the last ``months`` months with attendance marked, newest first."""
    since = utcnow() - timedelta(days=31 * months)
    return list(db.session.scalars(
        select(Appointment)
        .where(Appointment.patient_id == patient.id, Appointment.starts_at >= since,
               Appointment.attendance != Attendance.UNKNOWN)
        .order_by(Appointment.starts_at.desc()).limit(limit)
    ))
