"""The responsibility group (ansvarsgruppe): meetings of the patient with members of the care
team, internal and external.

A meeting is an appointment (``Appointment.is_team_meeting``), so it has reminders, letters,
a place in every list and the patient's answer like any other. On top of that it has
participants (members of the patient's care team), the patient's agenda (the same "before my
appointment" as a clinic appointment) and, afterwards, short minutes written by the
coordinator or another member of the clinic's staff: one point per item, each optionally
about one of the patient's goals or one of its measures. The minutes reach the patient as
"what we agreed" does (server/plans/agenda.py), and relatives with the "see meeting notes"
scope read them (without the links: the goals are not theirs to see).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import joinedload

from server.care_team import team
from server.care_team.models import TeamMember
from server.extensions import db
from server.messages.conversations import clean as plain_text
from server.models import Appointment, AppointmentStatus, PatientProfile, User
from server.models.base import utcnow
from server.plans import agenda, goals
from server.plans.models import AppointmentAgenda, Goal, Measure, MeetingParticipant
from server.services.errors import DomainError

MINUTES_MAX = 12
#: Empty rows the minutes form shows (more come with each save).
MINUTES_SHOWN = 6
MINUTE_MAX = 300


class MeetingError(DomainError):
    """Participants or minutes that cannot be stored as given."""


def participants(appointment: Appointment) -> list[TeamMember]:
    """Who is invited, in the order they were added."""
    return list(db.session.scalars(
        select(TeamMember).join(MeetingParticipant, MeetingParticipant.member_id == TeamMember.id)
        .where(MeetingParticipant.appointment_id == appointment.id)
        .options(joinedload(TeamMember.staff_user), joinedload(TeamMember.external))
        .order_by(MeetingParticipant.id)))


def set_participants(appointment: Appointment, member_ids: list[int], by: User) -> None:
    """Invite exactly these members of the patient's care team. Commits."""
    members = {m.id: m for m in team.active_members(appointment.patient)}
    if any(i not in members for i in member_ids):
        raise MeetingError(_l("Choose from the care team."), "not_member", "members")
    if not appointment.is_team_meeting:
        raise MeetingError(_l("This appointment is not a responsibility group meeting."),
                           "not_meeting")
    keep = set(member_ids)
    db.session.execute(delete(MeetingParticipant).where(
        MeetingParticipant.appointment_id == appointment.id,
        MeetingParticipant.member_id.not_in(keep)))
    present = set(db.session.scalars(select(MeetingParticipant.member_id).where(
        MeetingParticipant.appointment_id == appointment.id)))
    for member_id in member_ids:
        if member_id not in present:
            db.session.add(MeetingParticipant(appointment_id=appointment.id, member_id=member_id,
                                              added_by_id=by.id))
    db.session.commit()


def link_choices(patient: PatientProfile) -> list[tuple[str, str]]:
    """What a point of the minutes can be about: the patient's goals and their measures."""
    found: list[tuple[str, str]] = []
    for goal in goals.of_patient(patient):
        found.append((f"goal:{goal.id}", str(_l("Goal: %(text)s", text=goal.text))))
        for measure in goal.measures:
            found.append((f"measure:{measure.id}",
                          str(_l("Measure: %(text)s", text=measure.text))))
    return found


def _link(value: str, patient: PatientProfile, n: int) -> dict[str, int] | None:
    """"goal:3" or "measure:5" of this patient as a stored link; "" as None."""
    if not value:
        return None
    kind, _sep, number = value.partition(":")
    if kind in ("goal", "measure") and number.isdigit():
        if kind == "goal":
            row = db.session.get(Goal, int(number))
            owner = row.patient_id if row else None
        else:
            measure = db.session.get(Measure, int(number))
            owner = measure.goal.patient_id if measure else None
        if owner == patient.id:
            return {kind: int(number)}
    raise MeetingError(_l("Choose from the list."), "bad_link", f"rows-{n}-link")


def save_minutes(appointment: Appointment, rows: list[tuple[str, str]], by: User,
                 based_on: int | None = None) -> None:
    """The minutes, once the meeting has started: (text, link) per point; empty rows are
    skipped. The patient is told as for "what we agreed". Commits."""
    if not appointment.is_team_meeting:
        raise MeetingError(_l("This appointment is not a responsibility group meeting."),
                           "not_meeting")
    if appointment.starts_at > utcnow():
        raise MeetingError(_l("Write the minutes once the meeting has started."), "future",
                           "rows-0-text")
    items: list[str] = []
    links: list[dict[str, int] | None] = []
    for n, (text, link) in enumerate(rows):
        clean = plain_text(text)
        if not clean:
            if link:
                raise MeetingError(_l("Write the point, or leave its goal empty."), "no_text",
                                   f"rows-{n}-text")
            continue
        if len(clean) > MINUTE_MAX:
            raise MeetingError(_l("Please keep each point under %(n)d characters.", n=MINUTE_MAX),
                               "too_long", f"rows-{n}-text")
        items.append(clean)
        links.append(_link(link, appointment.patient, n))
    if not items:
        raise MeetingError(_l("Write at least one point."), "empty", "rows-0-text")
    if len(items) > MINUTES_MAX:
        raise MeetingError(_l("Write at most %(n)d points.", n=MINUTES_MAX), "too_many",
                           "rows-0-text")
    agenda.store_agreed(appointment, items, links, by, based_on, "rows-0-text")


@dataclass
class Minute:
    text: str
    goal: Goal | None = None
    measure: Measure | None = None


def minutes(talk: AppointmentAgenda | None) -> list[Minute]:
    """The points with the goal or measure each is about (still there, of this patient)."""
    if talk is None:
        return []
    found = []
    links = list(talk.agreed_links or [])
    for n, text in enumerate(talk.agreed):
        link = links[n] if n < len(links) else None
        minute = Minute(text)
        if link and "goal" in link:
            goal = db.session.get(Goal, link["goal"])
            minute.goal = goal if goal and goal.patient_id == talk.patient_id else None
        elif link and "measure" in link:
            measure = db.session.get(Measure, link["measure"])
            if measure and measure.goal.patient_id == talk.patient_id:
                minute.measure, minute.goal = measure, measure.goal
        found.append(minute)
    return found


def _meetings(patient_ids: list[int]) -> Select[tuple[Appointment]]:
    return (select(Appointment).where(Appointment.patient_id.in_(patient_ids),
                                      Appointment.is_team_meeting.is_(True),
                                      Appointment.status != AppointmentStatus.CANCELLED))


def next_meeting(patient: PatientProfile) -> Appointment | None:
    """The next responsibility-group meeting not yet over, or None."""
    return next_meetings([patient.id]).get(patient.id)


def next_meetings(patient_ids: list[int]) -> dict[int, Appointment]:
    """The next meeting of each patient, in one query (lists of patients)."""
    if not patient_ids:
        return {}
    found: dict[int, Appointment] = {}
    for appointment in db.session.scalars(_meetings(patient_ids).where(
            Appointment.starts_at >= utcnow()).order_by(Appointment.starts_at)):
        found.setdefault(appointment.patient_id, appointment)
    return found


@dataclass
class PastMeeting:
    appointment: Appointment
    talk: AppointmentAgenda | None
    people: list[TeamMember]


def past_meetings(patient: PatientProfile, limit: int = 10) -> list[PastMeeting]:
    """Meetings that have started, newest first, with their minutes and participants."""
    rows = list(db.session.scalars(_meetings([patient.id]).where(
        Appointment.starts_at < utcnow()).order_by(Appointment.starts_at.desc()).limit(limit)))
    talks = agenda.for_appointments([a.id for a in rows])
    return [PastMeeting(a, talks.get(a.id), participants(a)) for a in rows]


def meetings_with_notes(patient: PatientProfile) -> list[PastMeeting]:
    """Past meetings that have minutes (for relatives with the "see meeting notes" scope)."""
    return [m for m in past_meetings(patient) if m.talk and m.talk.agreed]


