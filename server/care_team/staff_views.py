"""Staff pages of the care team: a patient's team and gaps, handovers, the clinic's directory,
areas and settings, and moving a patient to another clinic."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.care_team import areas, handovers, team, transfers
from server.care_team.forms import (
    AcceptExternalForm,
    AcceptTransferForm,
    AddMemberForm,
    AnswerForm,
    AreaForm,
    ContactForm,
    DeclineTransferForm,
    FillGapForm,
    HandoverForm,
    TeamSettingsForm,
    TransferForm,
)
from server.care_team.models import (
    ClinicArea,
    ExternalConfirmation,
    ExternalContact,
    Handover,
    HandoverStatus,
    TeamService,
)
from server.care_team.team import TeamError
from server.extensions import db
from server.forms.common import ConfirmForm, attach_error, options
from server.models import (
    AccessTarget,
    Appointment,
    Clinic,
    ConsentMethod,
    PatientProfile,
    StaffMembership,
    StaffRole,
    TakeHomeRequest,
    User,
)
from server.models.base import utcnow
from server.numbers import row_id

bp = Blueprint("staff_team", __name__, url_prefix="/staff")


# --- choices ---------------------------------------------------------------------------------

def _clinic_staff(clinic_id: int, roles: set[StaffRole] | None = None) -> list[User]:
    query = select(User).join(StaffMembership, StaffMembership.user_id == User.id).where(
        StaffMembership.clinic_id == clinic_id, User.disabled_at.is_(None))
    if roles:
        query = query.where(StaffMembership.role.in_(roles))
    return list(db.session.scalars(query.order_by(User.display_name)))


def _directory(clinic_id: int) -> list[ExternalContact]:
    return list(db.session.scalars(
        select(ExternalContact).where(ExternalContact.clinic_id == clinic_id,
                                      ExternalContact.archived_at.is_(None))
        .order_by(ExternalContact.service, ExternalContact.organisation)))


def _contact_label(contact: ExternalContact) -> str:
    who = f"{contact.name}, " if contact.name else ""
    return f"{who}{contact.organisation}"


def _member_choices(view: team.TeamView) -> list[tuple[str, str]]:
    return [(str(m.member.id), f"{m.name or ''} {('(' + m.role + ')') if m.role else ''}"
             .strip() or str(m.organisation)) for m in view.members]


def _fill_forms(patient: PatientProfile, view: team.TeamView, add: AddMemberForm,
                gap: FillGapForm) -> None:
    on_team = {m.member.staff_user_id for m in view.members}
    add.staff.choices = options([("", _("Choose")), *(
        (str(u.id), u.display_name) for u in _clinic_staff(patient.clinic_id)
        if u.id not in on_team)])
    add.contact.choices = options([("", _("Choose")), *(
        (str(c.id), _contact_label(c)) for c in _directory(patient.clinic_id))])
    gap.area.choices = options((a.key, str(a.label)) for a in view.gaps)
    gap.member.choices = options(_member_choices(view))


def _team_page(patient: PatientProfile, add: AddMemberForm | None = None,
               gap: FillGapForm | None = None, status: int = 200) -> tuple[str, int]:
    view = team.team_for(patient, for_staff=True)
    add, gap = add or AddMemberForm(formdata=None), gap or FillGapForm(formdata=None)
    _fill_forms(patient, view, add, gap)
    return render_template(
        "staff/team.html", patient=patient, view=view, add_form=add, gap_form=gap,
        confirm=ConfirmForm(), moving=transfers.open_transfer(patient.id),
        may_hand_over=lambda m: policy.may_propose_handover(patient, m.member.staff_user_id),
        may_transfer=policy.may("propose_transfer", patient), area=areas.area), status


# --- a patient's team -------------------------------------------------------------------------

@bp.get("/patients/<int:patient_id>/team")
def patient_team(patient_id: int) -> tuple[str, int]:
    """Members, who holds what, the gaps in red, handovers waiting. Logged."""
    patient = policy.get_patient_or_404(patient_id, "view", AccessTarget.CARE_TEAM)
    return _team_page(patient)


@bp.post("/patients/<int:patient_id>/team/members")
def add_member(patient_id: int) -> WerkzeugResponse | tuple[str, int]:
    patient = policy.get_patient_or_404(patient_id, "manage_team", AccessTarget.CARE_TEAM)
    form = AddMemberForm()
    _fill_forms(patient, team.team_for(patient, for_staff=True), form, FillGapForm(formdata=None))
    if form.validate_on_submit():
        try:
            if form.staff.data:
                staff = db.session.get(User, row_id(form.staff.data))
                if staff is None:
                    abort(404)
                team.add_staff_member(patient, staff, form.role_text.data or "", current_user)
            else:
                contact = db.session.get(ExternalContact, row_id(form.contact.data))
                if contact is None:
                    abort(404)
                team.add_external_member(patient, contact, form.role_text.data or "",
                                         current_user)
        except TeamError as exc:
            if not attach_error(form, exc):
                form.staff.errors = [str(exc.message)]
        else:
            flash(_("Added to the team."), "success")
            return redirect(url_for("staff_team.patient_team", patient_id=patient_id))
    return _team_page(patient, add=form)


@bp.post("/team/members/<int:member_id>/remove")
def remove_member(member_id: int) -> WerkzeugResponse:
    member = policy.get_team_member_or_404(member_id, "manage_team")
    if ConfirmForm().validate_on_submit():
        try:
            team.remove_member(member, current_user)
        except TeamError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Taken off the team."), "success")
    return redirect(url_for("staff_team.patient_team", patient_id=member.patient_id))


@bp.post("/patients/<int:patient_id>/team/fill")
def fill_gap(patient_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Give an area nobody holds its holder."""
    patient = policy.get_patient_or_404(patient_id, "manage_team", AccessTarget.CARE_TEAM)
    form = FillGapForm()
    view = team.team_for(patient, for_staff=True)
    _fill_forms(patient, view, AddMemberForm(formdata=None), form)
    if form.validate_on_submit():
        member = next((m.member for m in view.members if str(m.member.id) == form.member.data),
                      None)
        try:
            if member is None:
                raise TeamError(_("Choose a member of this patient's team."), "member",
                                "member")
            team.fill_gap(patient, form.area.data or "", member, current_user)
        except TeamError as exc:
            if not attach_error(form, exc):
                form.area.errors = [str(exc.message)]
        else:
            flash(_("Saved. The patient sees who is responsible."), "success")
            return redirect(url_for("staff_team.patient_team", patient_id=patient_id))
    return _team_page(patient, gap=form)


# --- handovers --------------------------------------------------------------------------------

def _handover_form(patient: PatientProfile, view: team.TeamView, form: HandoverForm) -> None:
    holders = {row.area_key: row for row in team.current_responsibilities(patient.id)}
    member_by_id = {m.member.id: m for m in view.members}
    allowed = [a for a in areas.areas_for(patient.clinic_id) if a.key in holders and
               policy.may_propose_handover(patient, member_by_id[holders[a.key].member_id]
                                           .member.staff_user_id
                                           if holders[a.key].member_id in member_by_id
                                           else None)]
    form.area.choices = options((a.key, str(a.label)) for a in allowed)
    on_team = {m.member.staff_user_id for m in view.members}
    in_directory = {m.member.external_contact_id for m in view.members}
    form.to.choices = options([
        *((f"member:{m.member.id}", f"{m.label} – {m.organisation}") for m in view.members),
        *((f"staff:{u.id}", u.display_name) for u in _clinic_staff(patient.clinic_id)
          if u.id not in on_team),
        *((f"contact:{c.id}", _contact_label(c)) for c in _directory(patient.clinic_id)
          if c.id not in in_directory)])


@bp.route("/patients/<int:patient_id>/team/handover", methods=["GET", "POST"])
def propose_handover(patient_id: int) -> str | WerkzeugResponse:
    """Propose a new holder; the current one stays responsible until it is accepted."""
    patient = policy.get_patient_or_404(patient_id, "manage_team", AccessTarget.CARE_TEAM)
    view = team.team_for(patient, for_staff=True)
    form = HandoverForm()
    _handover_form(patient, view, form)
    if request.method == "GET" and request.args.get("area"):
        form.area.data = request.args.get("area", "")[:40]
    if form.validate_on_submit():
        kind, _sep, raw_id = (form.to.data or "").partition(":")
        try:
            receiver = _receiver(patient, view, kind, row_id(raw_id))
            handover = handovers.propose(patient, form.area.data or "", receiver, current_user,
                                         form.takes_effect_on.data, form.note.data or "")
        except TeamError as exc:
            db.session.rollback()  # a receiver added for this proposal is not kept
            if not attach_error(form, exc):
                form.to.errors = [str(exc.message)]
        else:
            flash(_("The handover is proposed. The current holder stays responsible until it "
                    "is accepted."), "success")
            return redirect(url_for("staff_team.handover", handover_id=handover.id))
    return render_template("staff/team_handover_form.html", patient=patient, form=form,
                           view=view)


def _receiver(patient: PatientProfile, view: team.TeamView, kind: str,
              chosen: int | None) -> team.TeamMember:
    """The receiving member; a staff member or a contact not on the team yet is added."""
    if kind == "member":
        found = next((m.member for m in view.members if m.member.id == chosen), None)
        if found is not None:
            return found
    elif kind == "staff" and chosen is not None:
        staff = db.session.get(User, chosen)
        if staff is not None:
            return team.add_staff_member(patient, staff, "", current_user, commit=False)
    elif kind == "contact" and chosen is not None:
        contact = db.session.get(ExternalContact, chosen)
        if contact is not None:
            return team.add_external_member(patient, contact, "", current_user, commit=False)
    raise TeamError(_("Choose who takes it over."), "no_receiver", "to")


def _decline_form(formdata: bool = True) -> AnswerForm:
    """The decline form has its own prefix: it shares the page with the acceptance's note."""
    return AnswerForm(prefix="decline") if formdata else AnswerForm(prefix="decline",
                                                                   formdata=None)


def _handover_page(handover: Handover, accept: AcceptExternalForm | None = None,
                   decline: AnswerForm | None = None, conflict: str = "") -> str:
    return render_template(
        "staff/team_handover.html", h=handover, patient=handover.patient,
        area=areas.area(handover.area_key),
        from_view=team.member_view(handover.from_member, for_staff=True),
        to_view=team.member_view(handover.to_member, for_staff=True),
        accept_form=accept or AcceptExternalForm(formdata=None),
        decline_form=decline or _decline_form(formdata=False), confirm=ConfirmForm(),
        may_answer=handover.status is HandoverStatus.PROPOSED and
        policy.may_answer_handover(handover),
        may_withdraw=handover.status is HandoverStatus.PROPOSED and
        policy.may_withdraw_handover(handover), conflict=conflict)


@bp.get("/handovers/<int:handover_id>")
def handover(handover_id: int) -> str:
    return _handover_page(policy.get_handover_or_404(handover_id))


@bp.post("/handovers/<int:handover_id>/accept")
def accept_handover(handover_id: int) -> str | WerkzeugResponse:
    found = policy.get_handover_or_404(handover_id)
    if not policy.may_answer_handover(found):
        abort(403)
    external = found.to_member.external_contact_id is not None
    form = AcceptExternalForm() if external else ConfirmForm()
    if form.validate_on_submit():
        try:
            handovers.accept(
                found, current_user,
                ExternalConfirmation(form.confirmed_how.data) if external else None,
                form.confirmed_on.data if external else None,
                (form.note.data or "") if external else "")
        except handovers.HandoverConflict as exc:
            return _handover_page(found, conflict=str(exc.message))
        except TeamError as exc:
            if not attach_error(form, exc):
                flash(str(exc.message), "error")
        else:
            flash(_("Accepted. The patient sees who is responsible now."), "success")
            return redirect(url_for("staff_team.handover", handover_id=handover_id))
    return _handover_page(found, accept=form if external else None)


@bp.post("/handovers/<int:handover_id>/decline")
def decline_handover(handover_id: int) -> str | WerkzeugResponse:
    found = policy.get_handover_or_404(handover_id)
    if not policy.may_answer_handover(found):
        abort(403)
    form = _decline_form()
    if form.validate_on_submit():
        try:
            handovers.decline(found, current_user, form.note.data or "")
        except handovers.HandoverConflict as exc:
            return _handover_page(found, conflict=str(exc.message))
        flash(_("Declined. The current holder stays responsible."), "success")
        return redirect(url_for("staff_team.handover", handover_id=handover_id))
    return _handover_page(found, decline=form)


@bp.post("/handovers/<int:handover_id>/withdraw")
def withdraw_handover(handover_id: int) -> str | WerkzeugResponse:
    found = policy.get_handover_or_404(handover_id)
    if not policy.may_withdraw_handover(found):
        abort(403)
    if ConfirmForm().validate_on_submit():
        try:
            handovers.withdraw(found, current_user)
        except handovers.HandoverConflict as exc:
            return _handover_page(found, conflict=str(exc.message))
        flash(_("Withdrawn. The current holder stays responsible."), "success")
    return redirect(url_for("staff_team.handover", handover_id=handover_id))


# --- the clinic: directory, areas, settings ----------------------------------------------------

def _save_hours(target: ExternalContact | Clinic, form: ContactForm | TeamSettingsForm) -> None:
    target.open_days = sorted(set(form.open_days.data or []))
    target.opens_at, target.closes_at = form.opens_at.data, form.closes_at.data
    target.answers_within_days = form.answers_within_days.data


def _load_hours(target: ExternalContact | Clinic, form: ContactForm | TeamSettingsForm) -> None:
    form.open_days.data = list(target.open_days or [])
    form.opens_at.data, form.closes_at.data = target.opens_at, target.closes_at
    form.answers_within_days.data = target.answers_within_days


@bp.route("/clinics/<int:clinic_id>/contacts", methods=["GET", "POST"])
def directory(clinic_id: int) -> str | WerkzeugResponse:
    """The clinic's external contacts: entered once, chosen for each patient after that."""
    clinic = policy.get_clinic_or_404(clinic_id, "manage_team")
    form = ContactForm()
    if form.validate_on_submit():
        contact = ExternalContact(clinic_id=clinic.id, service=TeamService(form.service.data),
                                  organisation=(form.organisation.data or "").strip(),
                                  name=(form.name.data or "").strip(),
                                  role=(form.role.data or "").strip(),
                                  phone=form.phone.normalized,  # type: ignore[attr-defined]
                                  address=(form.address.data or "").strip())
        _save_hours(contact, form)
        db.session.add(contact)
        db.session.commit()
        flash(_("Added to the directory."), "success")
        return redirect(url_for("staff_team.directory", clinic_id=clinic_id))
    return render_template("staff/team_directory.html", clinic=clinic, form=form,
                           contacts=_directory(clinic.id))


@bp.route("/contacts/<int:contact_id>", methods=["GET", "POST"])
def contact(contact_id: int) -> str | WerkzeugResponse:
    found = db.session.get(ExternalContact, contact_id)
    if found is None:
        abort(404)
    clinic = policy.get_clinic_or_404(found.clinic_id, "manage_team")
    form = ContactForm()
    if request.method == "GET":
        form.service.data, form.organisation.data = found.service.value, found.organisation
        form.name.data, form.role.data = found.name, found.role
        form.phone.data, form.address.data = found.phone, found.address
        _load_hours(found, form)
    if form.validate_on_submit():
        found.service = TeamService(form.service.data)
        found.organisation = (form.organisation.data or "").strip()
        found.name, found.role = (form.name.data or "").strip(), (form.role.data or "").strip()
        found.phone = form.phone.normalized  # type: ignore[attr-defined]
        found.address = (form.address.data or "").strip()
        _save_hours(found, form)
        db.session.commit()
        flash(_("Saved. Every team with this contact shows the change."), "success")
        return redirect(url_for("staff_team.directory", clinic_id=clinic.id))
    return render_template("staff/team_contact.html", clinic=clinic, form=form, contact=found,
                           confirm=ConfirmForm())


@bp.route("/clinics/<int:clinic_id>/areas", methods=["GET", "POST"])
def clinic_areas(clinic_id: int) -> str | WerkzeugResponse:
    """Clinic admins: areas of responsibility beyond the built-in ones."""
    clinic = policy.get_clinic_or_404(clinic_id, "manage_clinic")
    form = AreaForm()
    if form.validate_on_submit():
        db.session.add(ClinicArea(clinic_id=clinic.id, label=(form.label.data or "").strip(),
                                  description=(form.description.data or "").strip()))
        db.session.commit()
        flash(_("The area is added. Every patient now has it, as a gap until someone holds "
                "it."), "success")
        return redirect(url_for("staff_team.clinic_areas", clinic_id=clinic_id))
    return render_template("staff/team_areas.html", clinic=clinic, form=form,
                           areas=areas.areas_for(clinic.id), built_in=areas.BUILT_IN)


@bp.route("/clinics/<int:clinic_id>/team-settings", methods=["GET", "POST"])
def settings(clinic_id: int) -> str | WerkzeugResponse:
    """Clinic admins: opening hours, answer and call-back times, crisis line, escalation."""
    clinic = policy.get_clinic_or_404(clinic_id, "manage_clinic")
    form = TeamSettingsForm()
    idporten = current_app.config["FOLGE"].idporten is not None
    if not idporten:  # sign-in levels need ID-porten: without it they are not asked
        del form.messages_level
        del form.take_home_level
    if request.method == "GET":
        _load_hours(clinic, form)
        form.show_staff_names.data = clinic.show_staff_names
        form.call_back_days.data = clinic.call_back_days
        form.crisis_line_name.data = clinic.crisis_line_name
        form.crisis_line_phone.data = clinic.crisis_line_phone
        form.handover_escalation_days.data = clinic.handover_escalation_days
        form.asks_before_appointment.data = clinic.asks_before_appointment
        if idporten:
            form.messages_level.data = clinic.messages_level
            form.take_home_level.data = clinic.take_home_level
    if form.validate_on_submit():
        _save_hours(clinic, form)
        clinic.show_staff_names = bool(form.show_staff_names.data)
        clinic.call_back_days = form.call_back_days.data or 0
        clinic.crisis_line_name = (form.crisis_line_name.data or "").strip()
        clinic.crisis_line_phone = form.crisis_line_phone.normalized  # type: ignore[attr-defined]
        clinic.handover_escalation_days = form.handover_escalation_days.data or 7
        clinic.asks_before_appointment = bool(form.asks_before_appointment.data)
        if idporten:
            clinic.messages_level = form.messages_level.data or "low"
            clinic.take_home_level = form.take_home_level.data or "low"
        db.session.commit()
        flash(_("Saved. Patients see it on their team page."), "success")
        return redirect(url_for("staff_team.settings", clinic_id=clinic_id))
    return render_template("staff/team_settings.html", clinic=clinic, form=form,
                           idporten_offered=idporten)


# --- moving to another clinic ------------------------------------------------------------------

@bp.route("/patients/<int:patient_id>/transfer", methods=["GET", "POST"])
def propose_transfer(patient_id: int) -> str | WerkzeugResponse:
    """Propose moving the patient to another clinic, with the patient's consent recorded."""
    patient = policy.get_patient_or_404(patient_id, "propose_transfer", AccessTarget.CARE_TEAM)
    form = TransferForm()
    others = db.session.scalars(select(Clinic).where(Clinic.id != patient.clinic_id)
                                .order_by(Clinic.name)).all()
    form.to_clinic.choices = options([("", _("Choose")), *((str(c.id), f"{c.name} "
                                                            f"({c.health_trust})")
                                                           for c in others)])
    if form.validate_on_submit():
        try:
            moved = transfers.propose(patient, transfers.ProposalInput(
                to_clinic_id=row_id(form.to_clinic.data) or 0,
                proposed_date=form.proposed_date.data,
                consent_method=ConsentMethod(form.consent_method.data),
                consent_on=form.consent_on.data, note=form.note.data or ""), current_user)
        except TeamError as exc:
            if not attach_error(form, exc):
                form.to_clinic.errors = [str(exc.message)]
        else:
            flash(_("The move is proposed. Your clinic stays responsible until the other "
                    "clinic accepts. The patient is told."), "success")
            return redirect(url_for("staff_team.transfer", transfer_id=moved.id))
    return render_template("staff/team_transfer_form.html", patient=patient, form=form,
                           moving=transfers.open_transfer(patient.id))


def _accept_choices(found: transfers.Transfer, form: AcceptTransferForm) -> None:
    doctors = _clinic_staff(found.to_clinic_id, {StaffRole.DOCTOR})
    form.doctor.choices = options([("", _("Choose")),
                                   *((str(u.id), u.display_name) for u in doctors)])
    form.coordinator.choices = options([("", _("Choose")), *(
        (str(u.id), u.display_name) for u in _clinic_staff(found.to_clinic_id))])


def _transfer_page(found: transfers.Transfer, side: str, accept: AcceptTransferForm | None = None,
                   decline: DeclineTransferForm | None = None, conflict: str = "") -> str:
    if accept is None:
        accept = AcceptTransferForm(formdata=None)
        _accept_choices(found, accept)
    may_answer = side == "receiving" and policy.may_in_clinic("accept_transfer",
                                                               found.to_clinic_id)
    return render_template(
        "staff/team_transfer.html", t=found, side=side, accept_form=accept,
        decline_form=decline or DeclineTransferForm(formdata=None), confirm=ConfirmForm(),
        may_answer=may_answer and found.status.value == "proposed",
        may_withdraw=side == "sending" and found.status.value == "proposed" and
        policy.may_in_clinic("propose_transfer", found.from_clinic_id),
        differences=transfers.rule_differences(found.from_clinic, found.to_clinic),
        conflict=conflict)


@bp.get("/transfers/<int:transfer_id>")
def transfer(transfer_id: int) -> str:
    """The sending clinic sees its proposal; the receiving clinic sees only what it needs."""
    found, side = policy.get_transfer_or_404(transfer_id)
    return _transfer_page(found, side)


@bp.post("/transfers/<int:transfer_id>/accept")
def accept_transfer(transfer_id: int) -> str | WerkzeugResponse:
    found, side = policy.get_transfer_or_404(transfer_id)
    if side != "receiving" or not policy.may_in_clinic("accept_transfer", found.to_clinic_id):
        abort(403)
    form = AcceptTransferForm()
    _accept_choices(found, form)
    if form.validate_on_submit():
        try:
            transfers.accept(found, current_user, row_id(form.doctor.data),
                             row_id(form.coordinator.data))
        except transfers.TransferConflict as exc:
            return _transfer_page(found, side, conflict=str(exc.message))
        except TeamError as exc:
            if not attach_error(form, exc):
                form.doctor.errors = [str(exc.message)]
        else:
            flash(_("Accepted. The patient is now followed up by your clinic."), "success")
            return redirect(url_for("staff_team.patient_team", patient_id=found.patient_id))
    return _transfer_page(found, side, accept=form)


@bp.post("/transfers/<int:transfer_id>/decline")
def decline_transfer(transfer_id: int) -> str | WerkzeugResponse:
    found, side = policy.get_transfer_or_404(transfer_id)
    if side != "receiving" or not policy.may_in_clinic("accept_transfer", found.to_clinic_id):
        abort(403)
    form = DeclineTransferForm()
    if form.validate_on_submit():
        try:
            transfers.decline(found, current_user, form.note.data or "")
        except transfers.TransferConflict as exc:
            return _transfer_page(found, side, conflict=str(exc.message))
        flash(_("Declined. The sending clinic stays responsible and reads your reason."),
              "success")
        return redirect(url_for("staff_team.transfer", transfer_id=transfer_id))
    return _transfer_page(found, side, decline=form)


@bp.post("/transfers/<int:transfer_id>/withdraw")
def withdraw_transfer(transfer_id: int) -> str | WerkzeugResponse:
    found, side = policy.get_transfer_or_404(transfer_id)
    if side != "sending" or not policy.may_in_clinic("propose_transfer", found.from_clinic_id):
        abort(403)
    if ConfirmForm().validate_on_submit():
        try:
            transfers.withdraw(found, current_user)
        except transfers.TransferConflict as exc:
            return _transfer_page(found, side, conflict=str(exc.message))
        flash(_("The proposed move is withdrawn."), "success")
    return redirect(url_for("staff_team.transfer", transfer_id=transfer_id))


@bp.get("/transfers")
def transfers_page() -> str:
    """Moves waiting for my clinics' answer, moves we proposed, and former patients."""
    clinic_ids = policy.staff_clinic_ids(current_user)
    incoming, outgoing = transfers.incoming(clinic_ids), transfers.outgoing(clinic_ids)
    former = transfers.former_patients(clinic_ids)
    policy.record_reads([t.patient for t in incoming + outgoing + former], AccessTarget.TRANSFER)
    return render_template("staff/team_transfers.html", incoming=incoming, outgoing=outgoing,
                           former=former)


@bp.get("/former-patients/<int:patient_id>")
def former_patient(patient_id: int) -> str:
    """Read only: what this clinic kept from before the patient moved."""
    patient, moved = policy.get_former_patient_or_404(patient_id)
    before = moved.decided_at or utcnow()
    kept_appointments = db.session.scalars(select(Appointment).where(
        Appointment.patient_id == patient.id, Appointment.clinic_id == moved.from_clinic_id,
        Appointment.starts_at < before).order_by(Appointment.starts_at.desc())).all()
    kept_requests = db.session.scalars(select(TakeHomeRequest).where(
        TakeHomeRequest.patient_id == patient.id,
        TakeHomeRequest.clinic_id == moved.from_clinic_id,
        TakeHomeRequest.created_at < before).order_by(TakeHomeRequest.created_at.desc())).all()
    return render_template("staff/team_former.html", patient=patient, moved=moved,
                           appointments=kept_appointments, requests=kept_requests)
