"""The care team of one patient: its members, who holds which area, the gaps, and how to
reach each member. What patients, relatives, staff, the SMS reply and the team letter show
is built here, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from babel.dates import get_day_names
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import BindParameter, ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.care_team import areas
from server.care_team.areas import Area
from server.care_team.models import (
    ClinicArea,
    ExternalContact,
    Handover,
    HandoverStatus,
    Responsibility,
    TeamEvent,
    TeamEventKind,
    TeamMember,
    TeamService,
)
from server.extensions import db
from server.models import (
    Appointment,
    Channel,
    Clinic,
    MessagePurpose,
    PatientProfile,
    ServiceKind,
    StaffRole,
    User,
)
from server.models.base import utcnow
from server.services import outbox
from server.services.errors import DomainError
from server.services.local_time import oslo_today

#: The order services are shown in, after the coordinator.
SERVICE_ORDER = (TeamService.CLINIC, TeamService.GP, TeamService.MUNICIPALITY, TeamService.NAV,
                 TeamService.PSYCHIATRY, TeamService.OTHER)


class TeamError(DomainError):
    """A change to the team that cannot be made; the message says why."""


@dataclass(frozen=True)
class Hours:
    days: tuple[int, ...]
    opens: time | None
    closes: time | None
    answers_within_days: int | None


@dataclass
class MemberView:
    """One member as a person reads it."""

    member: TeamMember
    #: The person's name, or None where the service shows roles only.
    name: str | None
    role: str
    organisation: str | LazyString
    service: TeamService
    phone: str
    hours: Hours
    areas: list[Area] = field(default_factory=list)
    #: Areas being handed over to this member, with the current holder's label.
    incoming: list[tuple[Area, str]] = field(default_factory=list)
    #: Areas this member takes over from a later date (accepted ahead of time).
    from_date: list[tuple[Area, datetime]] = field(default_factory=list)

    @property
    def is_coordinator(self) -> bool:
        return any(a.key == areas.COORDINATOR for a in self.areas)

    @property
    def label(self) -> str:
        """Name and role, or the role only: how the member is referred to in a sentence."""
        return f"{self.name} ({self.role})" if self.name and self.role else (self.name or
                                                                             self.role)


@dataclass
class TeamView:
    patient: PatientProfile
    members: list[MemberView]
    gaps: list[Area]
    handovers: list[Handover]

    @property
    def coordinator(self) -> MemberView | None:
        return next((m for m in self.members if m.is_coordinator), None)


# --- reading ---------------------------------------------------------------------------------

def active_members(patient: PatientProfile) -> list[TeamMember]:
    return list(db.session.scalars(
        select(TeamMember).where(TeamMember.patient_id == patient.id,
                                 TeamMember.removed_at.is_(None))
        .options(joinedload(TeamMember.staff_user), joinedload(TeamMember.external))
        .order_by(TeamMember.id)))


def current_responsibilities(patient_id: int, now: datetime | None = None) -> list[Responsibility]:
    """The rows in force now: started, and not ended."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Responsibility).where(
            Responsibility.patient_id == patient_id, Responsibility.since <= now,
            or_(Responsibility.until.is_(None), Responsibility.until > now))
        .order_by(Responsibility.id)))


def future_responsibilities(patient_id: int, now: datetime | None = None) -> list[Responsibility]:
    """Accepted handovers that take effect on a later date."""
    now = now or utcnow()
    return list(db.session.scalars(select(Responsibility).where(
        Responsibility.patient_id == patient_id, Responsibility.since > now)))


def holder(patient_id: int, area_key: str, now: datetime | None = None) -> Responsibility | None:
    return next((r for r in current_responsibilities(patient_id, now) if r.area_key == area_key),
                None)


def open_handover_conditions(patient_id: int) -> list[ColumnElement[bool]]:
    """Handovers of the patient's areas proposed and not yet accepted."""
    return [Handover.patient_id == patient_id, Handover.status == HandoverStatus.PROPOSED]


def open_handovers(patient_id: int) -> list[Handover]:
    return list(db.session.scalars(
        select(Handover).where(*open_handover_conditions(patient_id))
        .order_by(Handover.proposed_at)))


def contact_hours(member: TeamMember) -> Hours:
    source: ExternalContact | Clinic = member.external or member.clinic
    return Hours(tuple(source.open_days or ()), source.opens_at, source.closes_at,
                 source.answers_within_days)


def describe_hours(hours: Hours) -> str:
    """The days and times, e.g. "Mon–Fri 08:00–15:30", in the current language."""
    if hours.opens is None or hours.closes is None or not hours.days:
        return ""
    names = get_day_names("abbreviated", locale=get_locale() or "nb")
    days = sorted(set(hours.days))
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    text = ", ".join(names[r[0]] if len(r) == 1 else f"{names[r[0]]}–{names[r[-1]]}"
                     for r in runs)
    return f"{text} {hours.opens:%H:%M}–{hours.closes:%H:%M}"


def contact_phone(member: TeamMember) -> str:
    if member.direct_phone:
        return member.direct_phone
    return member.external.phone if member.external else member.clinic.phone


def _view(member: TeamMember, clinic: Clinic, for_staff: bool = False) -> MemberView:
    if member.external is not None:
        contact = member.external
        name = contact.name or None
        role = member.role_text or contact.role
        organisation: str | LazyString = contact.organisation
    else:
        name = member.staff_user.display_name if member.staff_user and (
            for_staff or clinic.show_staff_names) else None
        role = member.role_text or _staff_role_word(member)
        # For the patient "Your clinic", never the clinic's name: names often say what kind of
        # clinic it is. Staff read the name (and their colleagues' names).
        organisation = clinic.name if for_staff else _l("Your clinic")
    return MemberView(member=member, name=name, role=role, organisation=organisation,
                      service=member.service, phone=contact_phone(member),
                      hours=contact_hours(member))


def _staff_role_word(member: TeamMember) -> str:
    """The staff member's role at the team's clinic, in the reader's language."""
    user = member.staff_user
    membership = next((m for m in (user.memberships if user else [])
                       if m.clinic_id == member.clinic_id), None)
    return str(ROLE_WORDS[membership.role]) if membership is not None else ""


def team_for(patient: PatientProfile, now: datetime | None = None,
             for_relatives: bool = False, for_staff: bool = False) -> TeamView:
    """The team as it stands now: coordinator first, then by service; gaps; handovers.

    ``for_relatives`` leaves out the members the patient chose not to show them.
    """
    now = now or utcnow()
    members = active_members(patient)
    views = {m.id: _view(m, patient.clinic, for_staff) for m in members}
    clinic_areas = areas.areas_for(patient.clinic_id)
    held = set()
    for row in current_responsibilities(patient.id, now):
        if row.member_id in views:
            views[row.member_id].areas.append(areas.area(row.area_key))
            held.add(row.area_key)
    for row in future_responsibilities(patient.id, now):
        if row.member_id in views:
            views[row.member_id].from_date.append((areas.area(row.area_key), row.since))
    handovers = open_handovers(patient.id)
    for handover in handovers:
        if handover.to_member_id in views and handover.from_member_id in views:
            views[handover.to_member_id].incoming.append(
                (areas.area(handover.area_key), views[handover.from_member_id].label))
    shown = [v for v in views.values()
             if not for_relatives or v.member.visible_to_relatives]
    shown.sort(key=lambda v: (not v.is_coordinator, SERVICE_ORDER.index(v.service),
                              v.member.id))
    gaps = [a for a in clinic_areas if a.key not in held]
    return TeamView(patient=patient, members=shown, gaps=gaps, handovers=handovers)


def patient_ids_of(user: User) -> Select[tuple[int]]:
    """The patients whose care team ``user`` is in now ("my patients")."""
    return select(TeamMember.patient_id).where(TeamMember.staff_user_id == user.id,
                                               TeamMember.removed_at.is_(None))


def gaps_query(clinic_ids: list[int] | BindParameter[list[int]],
               now: datetime | BindParameter[datetime]) -> Select[tuple[int, int]]:
    """(patient id, open areas) for the patients of these clinics with at least one gap,
    by patient id: the clinic's areas (built-in and its own, not archived) less the areas
    someone holds now. Counted in the database, so a clinic's size costs no Python loop."""
    filled = (select(Responsibility.patient_id,
                     func.count(func.distinct(Responsibility.area_key)).label("filled"))
              .join(PatientProfile, PatientProfile.id == Responsibility.patient_id)
              .where(PatientProfile.clinic_id.in_(clinic_ids), Responsibility.since <= now,
                     or_(Responsibility.until.is_(None), Responsibility.until > now))
              .group_by(Responsibility.patient_id).subquery())
    own = (select(ClinicArea.clinic_id, func.count().label("own"))
           .where(ClinicArea.clinic_id.in_(clinic_ids), ClinicArea.archived_at.is_(None))
           .group_by(ClinicArea.clinic_id).subquery())
    gaps = len(areas.BUILT_IN) + func.coalesce(own.c.own, 0) - func.coalesce(filled.c.filled, 0)
    return (select(PatientProfile.id, gaps.label("gaps"))
            .outerjoin(filled, filled.c.patient_id == PatientProfile.id)
            .outerjoin(own, own.c.clinic_id == PatientProfile.clinic_id)
            .where(PatientProfile.clinic_id.in_(clinic_ids), gaps > 0)
            .order_by(PatientProfile.id))


def gap_counts(clinic_ids: list[int]) -> dict[int, int]:
    """Open areas (gaps) per patient of these clinics; patients without gaps are left out."""
    if not clinic_ids:
        return {}
    return {pid: int(n) for pid, n in db.session.execute(gaps_query(clinic_ids, utcnow()))}


def gap_total_query(clinic_ids: list[int] | BindParameter[list[int]],
                    now: datetime | BindParameter[datetime]) -> Select[tuple[int]]:
    """All the gaps of these clinics' patients added up (Today's figure), as one query."""
    found = gaps_query(clinic_ids, now).subquery()
    return select(func.coalesce(func.sum(found.c.gaps), 0))


def coordinator_contact(patient: PatientProfile) -> tuple[str | None, str]:
    """(who, phone) to name in a call-back or an SMS: the coordinator, or (None, the
    clinic's number) when there is none yet."""
    coordinator = team_for(patient).coordinator
    if coordinator is not None:
        return coordinator.label, coordinator.phone
    return None, patient.clinic.phone


# --- changing ----------------------------------------------------------------------------------

def _event(patient: PatientProfile, kind: TeamEventKind, by: User | None, **values: object) -> None:
    db.session.add(TeamEvent(patient_id=patient.id, kind=kind,
                             by_user_id=by.id if by else None, **values))


def send_team_sheet(patient: PatientProfile) -> None:
    """Patients who do not use the app get the team on paper when it changes: one letter a
    day at most, drawn from the team as it is when the letter is printed (caller commits)."""
    if not outbox.reads_on_paper(patient):
        return
    outbox.enqueue(key=f"team_sheet:{patient.id}:{utcnow().date().isoformat()}",
                   purpose=MessagePurpose.TEAM_SHEET, patient=patient, template="team_sheet",
                   params={"patient_id": patient.id}, channels=[Channel.LETTER.value])


ROLE_WORDS: dict[StaffRole, LazyString] = {
    StaffRole.DOCTOR: _l("doctor"), StaffRole.NURSE: _l("nurse"),
    StaffRole.SOCIAL_WORKER: _l("social worker"), StaffRole.COORDINATOR: _l("coordinator"),
    StaffRole.CLINIC_ADMIN: _l("head of the clinic"),
}


def add_staff_member(patient: PatientProfile, staff: User, role_text: str, by: User,
                     commit: bool = True) -> TeamMember:
    """Add a staff member of the patient's clinic to the team (or return the one there)."""
    existing = next((m for m in active_members(patient) if m.staff_user_id == staff.id), None)
    if existing is not None:
        return existing
    membership = next((m for m in staff.memberships if m.clinic_id == patient.clinic_id), None)
    if membership is None:
        raise TeamError(_l("Only staff of the patient's clinic can be on the team from the "
                           "clinic."), "not_staff", "staff")
    member = TeamMember(patient_id=patient.id, clinic_id=patient.clinic_id,
                        service=TeamService.CLINIC, staff_user_id=staff.id,
                        role_text=role_text.strip()[:100],
                        added_by_id=by.id, added_at=utcnow())
    db.session.add(member)
    db.session.flush()
    _event(patient, TeamEventKind.MEMBER_ADDED, by, member_id=member.id)
    if commit:
        send_team_sheet(patient)
        db.session.commit()
    return member


def add_external_member(patient: PatientProfile, contact: ExternalContact, role_text: str,
                        by: User, commit: bool = True) -> TeamMember:
    """Add a contact from the clinic's directory to the team (or return the one there)."""
    if contact.clinic_id != patient.clinic_id or contact.archived_at is not None:
        raise TeamError(_l("Choose a contact from the clinic's directory."), "not_in_directory",
                        "contact")
    existing = next((m for m in active_members(patient)
                     if m.external_contact_id == contact.id), None)
    if existing is not None:
        return existing
    member = TeamMember(patient_id=patient.id, clinic_id=patient.clinic_id,
                        service=contact.service, external_contact_id=contact.id,
                        role_text=role_text.strip()[:100], added_by_id=by.id, added_at=utcnow())
    db.session.add(member)
    db.session.flush()
    _event(patient, TeamEventKind.MEMBER_ADDED, by, member_id=member.id)
    if commit:
        send_team_sheet(patient)
        db.session.commit()
    return member


def remove_member(member: TeamMember, by: User) -> None:
    """Take a member off the team. Refused while they hold an area, take one over later, or
    are the receiver of an open handover: a responsibility is handed over first."""
    if member.removed_at is not None:
        return
    holds = db.session.scalar(select(Responsibility.id).where(
        Responsibility.member_id == member.id, Responsibility.until.is_(None)).limit(1))
    if holds is not None:
        raise TeamError(_l("This member is responsible for something. Hand it over to someone "
                           "else first; they stay on the team until that is accepted."),
                        "holds_area")
    receiving = db.session.scalar(select(Handover.id).where(
        Handover.to_member_id == member.id, Handover.status == HandoverStatus.PROPOSED).limit(1))
    if receiving is not None:
        raise TeamError(_l("A handover to this member is waiting. Withdraw it first."),
                        "receiving")
    member.removed_at = utcnow()
    member.removed_by_id = by.id
    _event(member.patient, TeamEventKind.MEMBER_REMOVED, by, member_id=member.id)
    send_team_sheet(member.patient)
    db.session.commit()


def fill_gap(patient: PatientProfile, area_key: str, member: TeamMember, by: User,
             commit: bool = True) -> Responsibility:
    """Give an area nobody holds its first holder. An area someone holds changes only
    through a handover (handovers.py)."""
    if member.patient_id != patient.id or member.removed_at is not None:
        raise TeamError(_l("Choose a member of this patient's team."), "not_member", "member")
    if not areas.is_area_of(area_key, patient.clinic_id):
        raise TeamError(_l("Choose one of the clinic's areas."), "unknown_area", "area")
    taken = TeamError(_l("Someone is already responsible for this. Propose a handover "
                         "instead."), "taken", "area")
    if db.session.scalar(select(Responsibility.id).where(
            Responsibility.patient_id == patient.id, Responsibility.area_key == area_key,
            Responsibility.until.is_(None)).limit(1)) is not None:
        raise taken
    row = Responsibility(patient_id=patient.id, area_key=area_key, member_id=member.id,
                         since=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:  # filled by someone else at the same moment
        db.session.rollback()
        raise taken from None
    _event(patient, TeamEventKind.AREA_FILLED, by, area_key=area_key, member_id=member.id)
    if commit:
        send_team_sheet(patient)
        db.session.commit()
    return row


def history(patient: PatientProfile) -> list[Responsibility]:
    """Who was responsible for what, when: every row, newest first."""
    return list(db.session.scalars(
        select(Responsibility).where(Responsibility.patient_id == patient.id)
        .options(joinedload(Responsibility.member).joinedload(TeamMember.staff_user),
                 joinedload(Responsibility.member).joinedload(TeamMember.external))
        .order_by(Responsibility.since.desc(), Responsibility.id.desc())))


def member_view(member: TeamMember, for_staff: bool = False) -> MemberView:
    """One member as a person reads it (for history and letters), or as staff do."""
    return _view(member, member.patient.clinic, for_staff)


def set_visible_to_relatives(member: TeamMember, visible: bool) -> None:
    """The patient's choice for one member. Commits."""
    member.visible_to_relatives = visible
    db.session.commit()


# --- "call me" and the number to call -------------------------------------------------------

@dataclass(frozen=True)
class CallBack:
    """Who will call, from which number, and by which day."""

    #: The coordinator's label, or None for "your clinic".
    who: str | None
    phone: str
    by: date


def add_working_days(day: date, days: int) -> date:
    """``day`` plus ``days`` working days (Monday to Friday); a weekend day moves on first."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def call_back(patient: PatientProfile) -> CallBack:
    """The promise shown after "call me": the coordinator (else the clinic) calls from their
    number within the clinic's call-back time."""
    who, phone = coordinator_contact(patient)
    return CallBack(who=who, phone=phone,
                    by=add_working_days(oslo_today(), patient.clinic.call_back_days or 0))


#: Which team service answers for an appointment at each kind of service.
_SERVICE_OF_APPOINTMENT = {
    ServiceKind.GP: (TeamService.GP,), ServiceKind.MUNICIPALITY: (TeamService.MUNICIPALITY,
                                                                  TeamService.NAV),
    ServiceKind.PSYCHIATRY: (TeamService.PSYCHIATRY,), ServiceKind.OTHER: (TeamService.OTHER,),
}


def number_for_appointment(appointment: Appointment) -> str | None:
    """The number to call about an appointment: the clinic's for its own appointments, else
    the team member of that service, if the team has one."""
    if appointment.service is ServiceKind.CLINIC:
        return appointment.patient.clinic.phone
    wanted = _SERVICE_OF_APPOINTMENT.get(appointment.service, ())
    member = next((m for m in active_members(appointment.patient) if m.service in wanted), None)
    return contact_phone(member) if member is not None else None
