"""My goals: the clinic's part of an individual plan (individuell plan).

Goals are the patient's, in their own words: the patient adds, words and orders them. Staff
may suggest a goal, which counts once the patient accepts it (or is kept as declined). Under
each goal staff add measures, each with one responsible member of the care team and a date;
the patient and the team write short progress notes; the status (started, going well, stuck,
reached, dropped) always shows its reason when one is given.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from server.care_team.models import TeamMember
from server.extensions import db
from server.messages.conversations import clean as plain_text
from server.models import PatientProfile, User
from server.models.base import utcnow
from server.plans.models import Goal, GoalEvent, GoalNote, IpConsent, Measure
from server.services.errors import DomainError

STATUSES = ("started", "going_well", "stuck", "reached", "dropped")
TEXT_MAX = 500
NOTE_MAX = 1000


class GoalError(DomainError):
    """A goal, measure or note that cannot be stored as given."""


class GoalChanged(DomainError):
    """Someone changed the goal after this person opened it; nothing was saved."""

    def __init__(self, field: str) -> None:
        super().__init__(_l("Someone changed this goal while you were writing. What you wrote "
                            "is kept: compare it with the goal as it is now, and save again."),
                         "changed", field)


def _event(goal: Goal, kind: str, by: User | None, before: str = "", after: str = "") -> None:
    """Keep one change in the goal's history (in the caller's transaction)."""
    db.session.add(GoalEvent(goal=goal, kind=kind, by_id=by.id if by else None,
                             before=before, after=after))


def _check(goal: Goal, based_on: int | None, field: str) -> None:
    """Refuse a save made on top of an older version (``based_on`` None: no check)."""
    if based_on is not None and based_on != goal.version:
        raise GoalChanged(field)


def _text(value: str, limit: int, field: str, empty: object) -> str:
    clean = plain_text(value)
    if not clean:
        raise GoalError(empty, "empty", field)  # type: ignore[arg-type]
    if len(clean) > limit:
        raise GoalError(_l("Please keep it under %(n)d characters.", n=limit), "too_long", field)
    return clean


def of_patient(patient: PatientProfile, states: tuple[str, ...] = ("active",)) -> list[Goal]:
    """The patient's goals in their order, with measures (and who is responsible) and notes."""
    return list(db.session.scalars(
        select(Goal).where(Goal.patient_id == patient.id, Goal.state.in_(states))
        .options(selectinload(Goal.measures).selectinload(Measure.member),
                 selectinload(Goal.notes).selectinload(GoalNote.author),
                 selectinload(Goal.events).selectinload(GoalEvent.by))
        .order_by(Goal.position, Goal.id)))


def _next_position(patient: PatientProfile) -> int:
    return (db.session.scalar(select(func.max(Goal.position)).where(
        Goal.patient_id == patient.id)) or 0) + 1


def add(patient: PatientProfile, text: str, by: User) -> Goal:
    """A goal the patient wrote (active at once) or staff suggested. Commits."""
    words = _text(text, TEXT_MAX, "text", _l("Write the goal in a few words."))
    suggested = by.id != patient.user_id
    goal = Goal(patient_id=patient.id, position=_next_position(patient), text=words,
                state="suggested" if suggested else "active",
                suggested_by_id=by.id if suggested else None, updated_by_id=by.id)
    db.session.add(goal)
    _event(goal, "suggested" if suggested else "added", by, after=words)
    db.session.commit()
    return goal


def answer_suggestion(goal: Goal, accept: bool) -> None:
    """The patient accepts or declines a goal staff suggested. Commits."""
    if goal.state != "suggested":
        raise GoalError(_l("This suggestion has been answered already."), "answered")
    goal.state = "active" if accept else "declined"
    goal.updated_at = utcnow()
    _event(goal, "accepted" if accept else "declined", goal.patient.user)
    db.session.commit()


def reword(goal: Goal, text: str, by: User, based_on: int | None = None) -> None:
    """New words for the goal; the old ones stay in its history. Commits."""
    words = _text(text, TEXT_MAX, "text", _l("Write the goal in a few words."))
    _check(goal, based_on, "text")
    if words == goal.text:
        return
    _event(goal, "reworded", by, before=goal.text, after=words)
    goal.text = words
    goal.version += 1
    goal.updated_at, goal.updated_by_id = utcnow(), by.id
    db.session.commit()


def move(goal: Goal, up: bool) -> None:
    """Swap the goal with the one above (or below) it in the patient's order. Commits."""
    goals = of_patient(goal.patient, ("active",))
    ids = [g.id for g in goals]
    if goal.id not in ids:
        return
    i = ids.index(goal.id)
    j = i - 1 if up else i + 1
    if 0 <= j < len(goals):
        goals[i], goals[j] = goals[j], goals[i]
        for n, g in enumerate(goals, start=1):  # numbered afresh: no two share a place
            g.position = n
        db.session.commit()


def set_status(goal: Goal, status: str, reason: str, by: User,
               based_on: int | None = None) -> None:
    """A status with its reason; the earlier one stays in the history. Commits."""
    if status not in STATUSES:
        raise GoalError(_l("Choose from the list."), "bad_status", "status")
    clean = plain_text(reason)
    if len(clean) > NOTE_MAX:
        raise GoalError(_l("Please keep it under %(n)d characters.", n=NOTE_MAX), "too_long",
                        "reason")
    _check(goal, based_on, "reason")
    if (status, clean) == (goal.status, goal.status_reason):
        return
    _event(goal, "status", by, before=f"{goal.status}\n{goal.status_reason}",
           after=f"{status}\n{clean}")
    goal.version += 1
    goal.status, goal.status_reason = status, clean
    goal.updated_at, goal.updated_by_id = utcnow(), by.id
    db.session.commit()


def add_note(goal: Goal, text: str, by: User) -> GoalNote:
    note = GoalNote(goal_id=goal.id, author_id=by.id,
                    text=_text(text, NOTE_MAX, "note", _l("Write a few words first.")))
    db.session.add(note)
    _event(goal, "note", by, after=note.text)
    db.session.commit()
    return note


def add_measure(goal: Goal, text: str, member: TeamMember | None, due_on: date | None,
                by: User, today: date) -> Measure:
    """A step with one responsible member of the patient's care team and a date that has not
    passed. Commits."""
    words = _text(text, TEXT_MAX, "text", _l("Write what will be done."))
    if member is None or member.patient_id != goal.patient_id or member.removed_at is not None:
        raise GoalError(_l("Choose who in the care team is responsible."), "no_member",
                        "member")
    if due_on is None:
        raise GoalError(_l("Choose a date."), "no_date", "due_on")
    if due_on < today:
        raise GoalError(_l("The date has passed. Choose today or a later day."), "past",
                        "due_on")
    measure = Measure(goal_id=goal.id, text=words, member_id=member.id, due_on=due_on,
                      created_by_id=by.id)
    db.session.add(measure)
    _event(goal, "measure", by, after=words)
    db.session.commit()
    return measure


CONSENT_METHODS = ("in_person", "phone", "in_writing")


def ip_consent(patient: PatientProfile) -> IpConsent | None:
    """What holds now: the newest consent or withdrawal, or None when never asked."""
    return db.session.scalars(
        select(IpConsent).where(IpConsent.patient_id == patient.id)
        .order_by(IpConsent.recorded_at.desc(), IpConsent.id.desc()).limit(1)).first()


def record_consent(patient: PatientProfile, given: bool, method: str, by: User) -> IpConsent:
    """Staff record that the patient agreed (or no longer agrees) to share the goals with the
    municipality's IP coordinator, and how the patient said so. Commits."""
    if method not in CONSENT_METHODS:
        raise GoalError(_l("Choose how the patient said it."), "bad_method", "method")
    consent = IpConsent(patient_id=patient.id, given=given, method=method, recorded_by_id=by.id)
    db.session.add(consent)
    db.session.commit()
    return consent


def history(goal: Goal) -> list[GoalEvent]:
    """Who changed what, newest first."""
    return list(db.session.scalars(
        select(GoalEvent).where(GoalEvent.goal_id == goal.id)
        .options(selectinload(GoalEvent.by)).order_by(GoalEvent.id.desc())))
