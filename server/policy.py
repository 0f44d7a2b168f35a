"""Who may do what. Every authorization decision in Følge is made here.

Default deny: an endpoint is public only when it is on ``PUBLIC_ENDPOINTS``;
every other endpoint needs a signed-in user whose role may use the
endpoint's area (its blueprint). An endpoint in no known area is refused.
Patient data is loaded through ``get_*_or_404`` functions that authorize
and write the access-log entry in the same request. Their ``target`` (what
the page shows of the patient) is a required argument: a staff or relative
page cannot reach a patient without writing the entry. Lists and searches
write one entry per patient shown (``record_reads``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from flask import abort, request
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from server.extensions import db, login_manager
from server.models import (
    AccessTarget,
    Appointment,
    Clinic,
    PatientProfile,
    RelativeAccess,
    RelativeInvitation,
    RelativeObservation,
    RelativeScope,
    Role,
    StaffMembership,
    StaffRole,
    TakeHomeRequest,
    User,
    WorkItem,
    WorkKind,
)
from server.services import access_log

if TYPE_CHECKING:
    from server.care_team.models import Handover, TeamMember, Transfer
    from server.messages.models import Conversation, ConversationMessage, QuickAnswer
    from server.plans.models import CrisisPlanVersion, Goal

#: Endpoints anyone may open without signing in.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "main.index",
        "main.health",
        # The privacy notice and the accessibility statement: for everyone, also before
        # signing in (server/views/main.py).
        "main.privacy",
        "main.accessibility",
        "pwa.manifest",
        "pwa.service_worker",
        "pwa.icon",
        "pwa.offline",
        "auth.sign_in",
        "auth.enter_code",
        "auth.staff_sign_in",
        "auth.staff_totp",
        "auth.passkey_options",
        "auth.passkey_finish",
        "i18n.set_language",
        # ID-porten: the start, the way back and its logouts (server/national_id/views.py);
        # the back-channel logout is signed by ID-porten instead of a session.
        "national_id.start",
        "national_id.invite",
        "national_id.staff_start",
        "national_id.callback",
        "national_id.problem",
        "national_id.signed_out",
        "national_id.backchannel_logout",
        "national_id.frontchannel_logout",
        # Signed by the SMS provider instead of a session; see server/views/webhooks.py.
        "webhooks.inbound",
        "webhooks.status",
        # Registered only when FOLGE_ENV=development; see server/views/dev.py.
        "dev.outbox",
        "dev.reply",
        # Invitation links for relatives: the token is the key; see server/views/invite.py.
        "invite.show",
        "invite.start",
        "invite.code",
        "invite.tell",
        # What the FHIR interface can do (a CapabilityStatement), open as FHIR requires.
        "fhir.metadata",
    }
)

#: Signed-in endpoints open to every role.
ANY_SIGNED_IN = frozenset({"auth.sign_out", "auth.keep_alive", "national_id.step_up",
                           "national_id.step_up_start"})

#: Which roles may use each signed-in area (blueprint name).
AREA_ROLES: dict[str, frozenset[Role]] = {
    "patient": frozenset({Role.PATIENT}),
    "appointments": frozenset({Role.PATIENT}),
    "reminders": frozenset({Role.PATIENT}),
    "relative": frozenset({Role.RELATIVE}),
    "account": frozenset({Role.PATIENT, Role.RELATIVE}),
    "staff": frozenset({Role.STAFF}),
    "staff_appointments": frozenset({Role.STAFF}),
    "worklist": frozenset({Role.STAFF}),
    "take_home": frozenset({Role.PATIENT}),
    "staff_take_home": frozenset({Role.STAFF}),
    "feedback": frozenset({Role.PATIENT}),
    "staff_feedback": frozenset({Role.STAFF}),
    "relatives": frozenset({Role.PATIENT}),
    "staff_relatives": frozenset({Role.STAFF}),
    # "Where you are signed in": everyone's own sessions only (server/views/signed_in.py).
    "signed_in": frozenset(Role),
    # The care team (server/care_team): the patient's own page, a relative's (with the
    # care-team scope), and the staff pages with handovers and moves between clinics.
    "team": frozenset({Role.PATIENT}),
    "relative_team": frozenset({Role.RELATIVE}),
    "staff_team": frozenset({Role.STAFF}),
    # Conversations with the care team (server/messages): the patient and staff of the
    # patient's current clinic. Relatives have no area here: they never see them.
    "messages": frozenset({Role.PATIENT}),
    "staff_messages": frozenset({Role.STAFF}),
    # The crisis plan (server/plans): the patient's own; a relative with the scope; the care
    # team while the patient shares it.
    "plans": frozenset({Role.PATIENT}),
    "relative_plans": frozenset({Role.RELATIVE}),
    "staff_plans": frozenset({Role.STAFF}),
    # Goals (server/plans/goals.py): the patient's own; the care team of the current clinic.
    "goals": frozenset({Role.PATIENT}),
    "staff_goals": frozenset({Role.STAFF}),
    "staff_national_id": frozenset({Role.STAFF}),
    # The record system's FHIR interface (server/fhir): no signed-in role, only an access
    # token, checked by check_request below.
    "fhir": frozenset(),
}

#: Staff roles allowed each action on a patient of their own clinic.
_ALL_STAFF = frozenset(StaffRole)
STAFF_ACTIONS: dict[str, frozenset[StaffRole]] = {
    "view": _ALL_STAFF,
    "register_phone": _ALL_STAFF,
    "manage_appointments": _ALL_STAFF,
    "manage_account": frozenset({StaffRole.COORDINATOR, StaffRole.CLINIC_ADMIN}),
    # Doctors decide take-home requests; a clinic admin can give the right to
    # named staff (StaffMembership.decides_take_home), see _GRANTS.
    "decide_take_home": frozenset({StaffRole.DOCTOR}),
    "manage_pickup_plan": frozenset({StaffRole.DOCTOR, StaffRole.NURSE}),
    # Register a relative for a low-digital patient, record an agreement.
    "manage_relatives": frozenset({StaffRole.DOCTOR, StaffRole.NURSE, StaffRole.SOCIAL_WORKER,
                                   StaffRole.COORDINATOR}),
    # Clinic-wide settings and figures that name staff members.
    "manage_clinic": frozenset({StaffRole.CLINIC_ADMIN}),
    # The care team: add and remove members, fill a gap, keep the clinic's directory.
    "manage_team": _ALL_STAFF,
    # Propose a handover of any area (the holder may always propose their own).
    "hand_over_any": frozenset({StaffRole.COORDINATOR, StaffRole.CLINIC_ADMIN}),
    # Propose moving a patient to another clinic; accept one into this clinic.
    "propose_transfer": frozenset({StaffRole.DOCTOR, StaffRole.COORDINATOR}),
    "accept_transfer": frozenset({StaffRole.DOCTOR, StaffRole.COORDINATOR,
                                  StaffRole.CLINIC_ADMIN}),
    # Read and answer a patient's conversations, assign them, close them.
    "message": _ALL_STAFF,
}

#: Actions a clinic admin may also give to a named staff member, by membership flag.
_GRANTS: dict[str, str] = {"decide_take_home": "decides_take_home"}


def allows(membership: StaffMembership | None, action: str) -> bool:
    """True when this membership may do ``action`` (by role or by a named grant)."""
    if membership is None:
        return False
    if membership.role in STAFF_ACTIONS.get(action, frozenset()):
        return True
    grant = _GRANTS.get(action)
    return grant is not None and bool(getattr(membership, grant))


def is_public(endpoint: str | None) -> bool:
    """True when ``endpoint`` may be opened without signing in."""
    return endpoint in PUBLIC_ENDPOINTS


def check_request() -> None:
    """Before every request: refuse what the current user may not open.

    Anonymous users are sent to sign in; a signed-in user outside the
    endpoint's area gets 404, so the area's existence is not confirmed.
    """
    endpoint = request.endpoint
    if endpoint is None or is_public(endpoint):
        return
    if request.blueprint == "fhir":
        # The record system's FHIR interface: an access token, never a session cookie.
        from server.fhir import tokens

        tokens.authenticate()
        return
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if endpoint in ANY_SIGNED_IN:
        return
    allowed = AREA_ROLES.get(request.blueprint or "")
    if allowed is None or current_user.role not in allowed:
        abort(404)
    from server.national_id import levels

    levels.enforce()  # the clinic may ask for a higher sign-in level here


def staff_membership(user: User, clinic_id: int) -> StaffMembership | None:
    """The user's membership of ``clinic_id``, if any."""
    if user.role is not Role.STAFF:
        return None
    for membership in user.memberships:
        if membership.clinic_id == clinic_id:
            return membership
    return None


def can_view_patient(user: User, patient: PatientProfile) -> bool:
    """True for the patient themself and for staff of the patient's clinic."""
    if user.id == patient.user_id:
        return True
    return staff_membership(user, patient.clinic_id) is not None


def current_patient() -> PatientProfile:
    """The signed-in patient's own profile."""
    profile = current_user.patient_profile if current_user.is_authenticated else None
    if profile is None:
        abort(404)
    return profile


def get_patient_or_404(patient_id: int, action: str, target: AccessTarget,
                       subject_id: int | None = None) -> PatientProfile:
    """Load a patient for a staff ``action`` or answer 404, and log it as ``target``.

    404, not 403, for patients of other clinics, so staff cannot learn which
    ids exist elsewhere. The access-log entry is written for every request that
    reaches the patient, also for one that goes on to change something.
    """
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None:
        abort(404)
    membership = staff_membership(current_user, patient.clinic_id)
    if membership is None:
        abort(404)
    if not allows(membership, action):
        abort(403)
    access_log.record(current_user, patient, target, membership.role.value, membership.clinic_id,
                      subject_id=subject_id)
    return patient


_Row = TypeVar("_Row", Appointment, TakeHomeRequest, RelativeAccess, "Goal")

#: Targets that are one row, whose id the log keeps so the patient reads which one it was.
_ONE_ROW = frozenset({AccessTarget.APPOINTMENT, AccessTarget.TAKE_HOME,
                      AccessTarget.CONVERSATION})


def _of_my_patient(model: type[_Row], row_id: int, action: str, target: AccessTarget) -> _Row:
    """A row that belongs to a patient, for a staff ``action`` on that patient (404 when
    missing or of another clinic; see get_patient_or_404)."""
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    get_patient_or_404(row.patient_id, action, target,
                       subject_id=row.id if target in _ONE_ROW else None)
    return row


_OwnRow = TypeVar("_OwnRow")


def _own_row(model: type[_OwnRow], row_id: int) -> _OwnRow:
    """A row of the signed-in patient, or 404 (also for other patients' rows)."""
    row = db.session.get(model, row_id)
    if row is None or row.patient_id != current_patient().id:  # type: ignore[attr-defined]
        abort(404)
    return row


def get_own_appointment_or_404(appointment_id: int) -> Appointment:
    """An appointment of the signed-in patient, or 404 (also for other patients')."""
    return _own_row(Appointment, appointment_id)


def get_appointment_or_404(appointment_id: int, action: str,
                           target: AccessTarget = AccessTarget.APPOINTMENT) -> Appointment:
    """An appointment for a staff ``action`` on its patient (see get_patient_or_404)."""
    return _of_my_patient(Appointment, appointment_id, action, target)


def staff_clinic_ids(user: User) -> list[int]:
    """The clinics whose work the staff member may see."""
    return [m.clinic_id for m in user.memberships] if user.role is Role.STAFF else []


#: What a worklist item shows of its patient, for the access log.
WORK_TARGETS: dict[WorkKind, AccessTarget] = {
    WorkKind.FEEDBACK_ALERT: AccessTarget.FEEDBACK,
    WorkKind.RELATIVE_OBSERVATION: AccessTarget.OBSERVATIONS,
}


def work_target(item: WorkItem) -> AccessTarget:
    """What ``item`` shows of its patient (most items are about an appointment)."""
    return WORK_TARGETS.get(item.kind, AccessTarget.APPOINTMENT)


def get_work_item_or_404(item_id: int) -> WorkItem:
    """A worklist item of one of my clinics, or 404; logged as what it shows."""
    item = db.session.get(WorkItem, item_id)
    if item is None or item.clinic_id not in staff_clinic_ids(current_user):
        abort(404)
    record_reads([item.patient], work_target(item))
    return item


def my_work_items(item_ids: list[int]) -> list[WorkItem]:
    """Those of ``item_ids`` that are worklist items of my clinics (others are left out
    without a word: an id from another clinic reveals nothing); each logged as what it shows."""
    if not item_ids:
        return []
    items = list(db.session.scalars(select(WorkItem).where(
        WorkItem.id.in_(item_ids), WorkItem.clinic_id.in_(staff_clinic_ids(current_user)))
        .options(joinedload(WorkItem.patient))))
    for target in {work_target(item) for item in items}:
        record_reads([item.patient for item in items if work_target(item) is target], target)
    return items


def record_reads(patients: list[PatientProfile], target: AccessTarget) -> None:
    """Log a list view (worklist, letter queue) once per patient shown in it."""
    record_list_reads([(patients, target)])


def record_list_reads(lists: list[tuple[list[PatientProfile], AccessTarget]]) -> None:
    """Log a page of several lists once per patient shown in each, in one INSERT and one
    commit (the worklist shows six)."""
    shown = []
    for patients, target in lists:
        seen: set[int] = set()
        for patient in patients:
            membership = staff_membership(current_user, patient.clinic_id)
            if membership is None or patient.id in seen:
                continue
            seen.add(patient.id)
            shown.append((patient, membership.role.value, membership.clinic_id, target))
    access_log.record_many(current_user, shown)


def may(action: str, patient: PatientProfile) -> bool:
    """For templates: may the current staff user do ``action`` on ``patient``?"""
    return allows(staff_membership(current_user, patient.clinic_id), action)


def get_own_take_home_or_404(request_id: int) -> TakeHomeRequest:
    """A take-home request of the signed-in patient, or 404 (also for other patients')."""
    return _own_row(TakeHomeRequest, request_id)


def get_take_home_or_404(request_id: int, action: str,
                         target: AccessTarget = AccessTarget.TAKE_HOME) -> TakeHomeRequest:
    """A take-home request for a staff ``action`` on its patient (see get_patient_or_404)."""
    return _of_my_patient(TakeHomeRequest, request_id, action, target)


def get_clinic_or_404(clinic_id: int, action: str) -> Clinic:
    """A clinic the current staff user belongs to, for a clinic-wide ``action``.

    404 for clinics the user is not a member of; 403 when the role does not allow it.
    """
    clinic = db.session.get(Clinic, clinic_id)
    membership = staff_membership(current_user, clinic_id) if clinic else None
    if clinic is None or membership is None:
        abort(404)
    if not allows(membership, action):
        abort(403)
    return clinic


def may_in_clinic(action: str, clinic_id: int) -> bool:
    """For templates: may the current staff user do ``action`` for the whole clinic?"""
    return allows(staff_membership(current_user, clinic_id), action)


def visible_patients(user: User, search: str = "") -> Select[tuple[PatientProfile]]:
    """Query for the patients ``user`` may list: those of the user's own clinics."""
    clinic_ids = staff_clinic_ids(user)
    query = (
        select(PatientProfile)
        .join(User, PatientProfile.user_id == User.id)
        .where(PatientProfile.clinic_id.in_(clinic_ids))
        .order_by(func.lower(User.display_name))
    )
    term = "".join(ch for ch in search if ch.isprintable()).strip()
    if term:
        # autoescape: a % or _ typed in the search is a character, not a wildcard.
        digits = "".join(ch for ch in term if ch in "0123456789")
        conditions = [func.lower(User.display_name).contains(term.lower(), autoescape=True)]
        if len(digits) >= 3:
            conditions.append(User.phone.contains(digits, autoescape=True))
        if term.isascii() and term.isdigit() and len(term) <= 9:  # the patient number ("No. 12")
            conditions.append(PatientProfile.id == int(term))
        born = _day_of_birth(term)
        if born is not None:
            conditions.append(PatientProfile.date_of_birth == born)
        query = query.where(or_(*conditions))
    return query


def _day_of_birth(term: str) -> date | None:
    """A date of birth as staff type it: 12.03.1984, 1984-03-12 or 12031984. Two-digit
    years are not taken: they are ambiguous."""
    if not term.isascii():
        return None
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d%m%Y"):
        try:
            return datetime.strptime(term, pattern).date()  # noqa: DTZ007 (a calendar day)
        except ValueError:
            continue
    return None


def list_visible_patients(user: User, search: str = "", limit: int = 200,
                          mine_only: bool = False) -> list[PatientProfile]:
    """The patients ``user`` may list, matching ``search``, at most ``limit`` (only those
    whose care team ``user`` is in, with ``mine_only``); each patient shown is written to the
    access log (a search by number reveals a name)."""
    from server.care_team import team

    query = visible_patients(user, search)
    if mine_only:
        query = query.where(PatientProfile.id.in_(team.patient_ids_of(user)))
    patients = list(db.session.scalars(query.limit(limit).options(
        contains_eager(PatientProfile.user), joinedload(PatientProfile.clinic))))
    record_reads(patients, AccessTarget.NAME)
    return patients


def get_shared_crisis_plan_or_404(patient_id: int, number: int | None = None,
                                  ) -> tuple[PatientProfile, CrisisPlanVersion]:
    """A patient's crisis plan (the newest, or version ``number``) for staff of the patient's
    current clinic, while the patient shares it with the care team; 404 otherwise, also for
    a former clinic. Logged as the crisis plan."""
    from server.plans import crisis

    patient = db.session.get(PatientProfile, patient_id)
    membership = staff_membership(current_user, patient.clinic_id) if patient else None
    if patient is None or membership is None:
        abort(404)
    latest = crisis.current(patient)
    if latest is None or not latest.shared_with_team:
        abort(404)
    shown = latest if number is None else crisis.version(patient, number)
    if shown is None:
        abort(404)
    access_log.record(current_user, patient, AccessTarget.CRISIS_PLAN, membership.role.value,
                      membership.clinic_id)
    return patient, shown


def get_own_goal_or_404(goal_id: int) -> Goal:
    """A goal of the signed-in patient (a suggestion too), or 404."""
    from server.plans.models import Goal

    return _own_row(Goal, goal_id)


def get_goal_or_404(goal_id: int) -> Goal:
    """A goal of a patient of my clinic (now), logged as the goals; 404 otherwise."""
    from server.plans.models import Goal

    return _of_my_patient(Goal, goal_id, "view", AccessTarget.GOALS)


def get_relative_access_or_404(patient_id: int, scope: RelativeScope | None,
                               target: AccessTarget) -> RelativeAccess:
    """The signed-in relative's active access to ``patient_id`` with ``scope``, or 404.

    Checked on every request, so a revocation or an end date takes effect on the
    relative's next click. 404 whatever is missing, so nothing hints at what is hidden.
    Every request that gets through writes an access-log entry the patient can read.
    """
    from server.services import relatives

    access = relatives.access_to(current_user, patient_id)
    if access is None or (scope is not None and scope.value not in (access.scopes or [])):
        abort(404)
    access_log.record(current_user, access.patient, target, "relative", None)
    return access


def get_own_relative_access_or_404(access_id: int) -> RelativeAccess:
    """An access to the signed-in patient's information, or 404."""
    return _own_row(RelativeAccess, access_id)


def get_own_invitation_or_404(invitation_id: int) -> RelativeInvitation:
    return _own_row(RelativeInvitation, invitation_id)


def get_staff_relative_access_or_404(access_id: int, action: str,
                                     target: AccessTarget = AccessTarget.RELATIVES
                                     ) -> RelativeAccess:
    """A relative access of a patient of my clinic, for ``action`` (see get_patient_or_404)."""
    return _of_my_patient(RelativeAccess, access_id, action, target)


# --- the care team ---------------------------------------------------------------------------

def get_team_member_or_404(member_id: int, action: str) -> TeamMember:
    """A team member of a patient of my clinic, for ``action`` (logged as the care team)."""
    from server.care_team.models import TeamMember as Member

    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    get_patient_or_404(member.patient_id, action, AccessTarget.CARE_TEAM)
    return member


def get_own_team_member_or_404(member_id: int) -> TeamMember:
    """A member of the signed-in patient's own team, or 404."""
    from server.care_team.models import TeamMember as Member

    return _own_row(Member, member_id)


def get_handover_or_404(handover_id: int) -> Handover:
    """A handover of a patient of my clinic (logged as the care team), or 404."""
    from server.care_team.models import Handover as HandoverRow

    handover = db.session.get(HandoverRow, handover_id)
    if handover is None:
        abort(404)
    get_patient_or_404(handover.patient_id, "view", AccessTarget.CARE_TEAM)
    return handover


def may_propose_handover(patient: PatientProfile, holder_user_id: int | None) -> bool:
    """The holder proposes their own handovers; coordinators and clinic admins any."""
    if holder_user_id is not None and holder_user_id == current_user.id:
        return may("manage_team", patient)
    return may("hand_over_any", patient)


def may_answer_handover(handover: Handover) -> bool:
    """Only the receiver accepts or declines; for an external receiver, any staff member of
    the clinic records the answer they gave (the one who spoke to them)."""
    receiver = handover.to_member
    if receiver.staff_user_id is not None:
        return bool(receiver.staff_user_id == current_user.id)
    return may("manage_team", handover.patient)


def may_withdraw_handover(handover: Handover) -> bool:
    """The proposer, the holder, or a coordinator or clinic admin."""
    if current_user.id in (handover.proposed_by_id, handover.from_member.staff_user_id):
        return True
    return may("hand_over_any", handover.patient)


def get_transfer_or_404(transfer_id: int) -> tuple[Transfer, str]:
    """A move of a patient, for staff of the sending or the receiving clinic, and which
    side the user is on ("sending" or "receiving"). The receiving clinic reads only the
    proposal (name, date of birth, day, contact), and that read is in the patient's log."""
    from server.care_team.models import Transfer as TransferRow

    transfer = db.session.get(TransferRow, transfer_id)
    if transfer is None:
        abort(404)
    receiving = staff_membership(current_user, transfer.to_clinic_id)
    sending = staff_membership(current_user, transfer.from_clinic_id)
    if receiving is not None:
        access_log.record(current_user, transfer.patient, AccessTarget.TRANSFER,
                          receiving.role.value, receiving.clinic_id)
        return transfer, "receiving"
    if sending is not None:
        access_log.record(current_user, transfer.patient, AccessTarget.TRANSFER,
                          sending.role.value, sending.clinic_id)
        return transfer, "sending"
    abort(404)


def get_former_patient_or_404(patient_id: int) -> tuple[PatientProfile, Transfer]:
    """A patient who moved out of one of my clinics: the read-only archive of what that
    clinic kept from before the move (logged). 404 for everyone else."""
    from server.care_team import transfers

    patient = db.session.get(PatientProfile, patient_id)
    moved = transfers.moved_out(patient_id, staff_clinic_ids(current_user)) if patient else None
    if patient is None or moved is None or patient.clinic_id in staff_clinic_ids(current_user):
        abort(404)
    membership = staff_membership(current_user, moved.from_clinic_id)
    if membership is None:
        abort(404)
    access_log.record(current_user, patient, AccessTarget.ARCHIVE, membership.role.value,
                      membership.clinic_id)
    return patient, moved


# --- conversations with the care team ----------------------------------------------------------

def get_own_conversation_or_404(conversation_id: int) -> Conversation:
    """A conversation of the signed-in patient, or 404 (also for other patients')."""
    from server.messages.models import Conversation as ConversationRow

    return _own_row(ConversationRow, conversation_id)


def get_conversation_or_404(conversation_id: int) -> Conversation:
    """A conversation of a patient of my clinic (now, after any move), logged as the
    conversation; 404 for staff of any other clinic, a former one included."""
    from server.messages.models import Conversation as ConversationRow

    conversation = db.session.get(ConversationRow, conversation_id)
    if conversation is None:
        abort(404)
    get_patient_or_404(conversation.patient_id, "message", AccessTarget.CONVERSATION,
                       subject_id=conversation.id)
    return conversation


def get_message_in_or_404(conversation: Conversation, message_id: int) -> ConversationMessage:
    """A message of a conversation already authorized by one of the loaders above."""
    from server.messages.models import ConversationMessage as MessageRow

    message = db.session.get(MessageRow, message_id)
    if message is None or message.conversation_id != conversation.id:
        abort(404)
    return message


def get_observation_or_404(observation_id: int) -> RelativeObservation:
    """A relative's observation about a patient of my clinic, for answering it (logged)."""
    observation = db.session.get(RelativeObservation, observation_id)
    if observation is None:
        abort(404)
    get_patient_or_404(observation.patient_id, "message", AccessTarget.OBSERVATIONS)
    return observation


def get_quick_answer_or_404(quick_id: int) -> QuickAnswer:
    """A quick answer of a clinic where I may change the settings (clinic admin)."""
    from server.messages.models import QuickAnswer as QuickRow

    quick = db.session.get(QuickRow, quick_id)
    if quick is None:
        abort(404)
    get_clinic_or_404(quick.clinic_id, "manage_clinic")
    return quick


# --- the record system (server/fhir) ------------------------------------------------------

#: How a record system appears in the patient's access log.
SYSTEM_ROLE = "record_system"


def get_patient_for_system_or_404(patient_id: int, target: AccessTarget,
                                  subject_id: int | None = None) -> PatientProfile:
    """A patient of the calling record system's clinic, or 404 (also for another clinic's
    patient, so ids elsewhere are not confirmed); the read is written to the patient's log."""
    from server.fhir import tokens

    client = tokens.current().client
    patient = db.session.get(PatientProfile, patient_id)
    if patient is None or patient.clinic_id != client.clinic_id:
        abort(404)
    access_log.record(client.user, patient, target, SYSTEM_ROLE, client.clinic_id,
                      subject_id=subject_id)
    return patient


def system_clinic_id() -> int:
    """The clinic whose record system is calling."""
    from server.fhir import tokens

    return tokens.current().client.clinic_id


def record_system_reads(patients: list[PatientProfile], target: AccessTarget) -> None:
    """Log a FHIR search: one entry per patient in the answer, of the caller's clinic only."""
    from server.fhir import tokens

    client = tokens.current().client
    seen: set[int] = set()
    shown = []
    for patient in patients:
        if patient.clinic_id == client.clinic_id and patient.id not in seen:
            seen.add(patient.id)
            shown.append((patient, SYSTEM_ROLE, client.clinic_id, target))
    access_log.record_many(client.user, shown)
