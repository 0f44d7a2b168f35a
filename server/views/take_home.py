"""The patient's take-home requests: the pickup plan, the clinic's rules, asking and answers."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import ConfirmForm, attach_error
from server.forms.take_home import ArrangementRequestForm, PeriodRequestForm
from server.models import (
    DECIDED,
    Abroad,
    ArrangementChange,
    PatientProfile,
    PeriodReason,
    PickupPlace,
    RequestKind,
    TakeHomeRequest,
)
from server.services import take_home
from server.services.take_home import Guidance, RequestInput, TakeHomeError

bp = Blueprint("take_home", __name__, url_prefix="/me/take-home")


@bp.get("/")
def index() -> str:
    """The pickup plan, granted periods, the clinic's rules and every request."""
    patient = policy.current_patient()
    today = take_home.today_for(patient.clinic)
    return render_template(
        "take_home/index.html", patient=patient, plan=take_home.plan_for(patient),
        periods=take_home.granted_periods(patient, today),
        rules=take_home.rules_for(patient.clinic), requests=take_home.requests_for(patient))


def _period_input(form: PeriodRequestForm, reassessment_of: int | None) -> RequestInput:
    return RequestInput(
        kind=RequestKind.PERIOD, client_key=form.client_key.data or "",
        first_day=form.first_day.data, last_day=form.last_day.data,
        reason=PeriodReason(form.reason.data), explanation=form.explanation.data or "",
        place=PickupPlace(form.place.data), place_name=form.place_name.data or "",
        abroad=Abroad(form.abroad.data), note=form.note.data or "",
        reassessment_of_id=reassessment_of)


def _arrangement_input(form: ArrangementRequestForm, reassessment_of: int | None) -> RequestInput:
    return RequestInput(
        kind=RequestKind.ARRANGEMENT, client_key=form.client_key.data or "",
        change=ArrangementChange(form.change.data), explanation=form.explanation.data or "",
        place_name=form.place_name.data or "", note=form.note.data or "",
        reassessment_of_id=reassessment_of)


def _ask(patient: PatientProfile, form: PeriodRequestForm | ArrangementRequestForm,
         template: str, original: TakeHomeRequest | None = None) -> str | WerkzeugResponse:
    """Show the form, or store the request it carries (once per client key)."""
    if request.method == "GET" and not form.client_key.data:
        form.client_key.data = take_home.new_client_key()
    advice = Guidance()
    if form.validate_on_submit():
        reassessment_of = original.id if original else None
        data = (_period_input(form, reassessment_of) if isinstance(form, PeriodRequestForm)
                else _arrangement_input(form, reassessment_of))
        try:
            stored, advice = take_home.submit(patient, data,
                                              ask_anyway=form.ask_anyway.data == "1")
        except TakeHomeError as exc:
            if not attach_error(form, exc):
                flash(str(exc.message), "error")
        else:
            if stored is not None:
                flash(_("Your request is sent. You will get an answer here in Følge."),
                      "success")
                return redirect(url_for("take_home.show", request_id=stored.id))
            form.ask_anyway.data = "1"  # the next press asks anyway
    return render_template(template, form=form, patient=patient, advice=advice,
                           rules=take_home.rules_for(patient.clinic), original=original,
                           plan=take_home.plan_for(patient))


def _period_form(patient: PatientProfile) -> PeriodRequestForm:
    """The period form, offering only the pickup places the clinic allows."""
    form = PeriodRequestForm()
    allowed = take_home.rules_for(patient.clinic).allowed_places
    form.place.choices = [c for c in form.place.choices if c.value in allowed]  # type: ignore[union-attr]
    return form


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | WerkzeugResponse:
    """Ask for take-home for a period."""
    patient = policy.current_patient()
    return _ask(patient, _period_form(patient), "take_home/period_form.html")


@bp.route("/change", methods=["GET", "POST"])
def change() -> str | WerkzeugResponse:
    """Ask for a change to the regular arrangement."""
    patient = policy.current_patient()
    return _ask(patient, ArrangementRequestForm(), "take_home/arrangement_form.html")


@bp.get("/<int:request_id>")
def show(request_id: int) -> str:
    found = policy.get_own_take_home_or_404(request_id)
    take_home.mark_decision_seen(found)
    return render_template("take_home/show.html", item=found, form=ConfirmForm(),
                           rules=take_home.rules_for(found.clinic))


@bp.post("/<int:request_id>/withdraw")
def withdraw(request_id: int) -> WerkzeugResponse:
    found = policy.get_own_take_home_or_404(request_id)
    if ConfirmForm().validate_on_submit():
        try:
            take_home.withdraw(found)
        except TakeHomeError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Your request is withdrawn."), "success")
    return redirect(url_for("take_home.show", request_id=request_id))


@bp.post("/<int:request_id>/storage")
def storage(request_id: int) -> WerkzeugResponse:
    """'I have read the advice on safe storage.'"""
    found = policy.get_own_take_home_or_404(request_id)
    if ConfirmForm().validate_on_submit():
        take_home.confirm_storage(found)
        flash(_("Thank you. The clinic can see that you have read it."), "success")
    return redirect(url_for("take_home.show", request_id=request_id))


@bp.route("/<int:request_id>/reassess", methods=["GET", "POST"])
def reassess(request_id: int) -> str | WerkzeugResponse:
    """Ask for a new assessment: the same form, filled in from the decided request."""
    original = policy.get_own_take_home_or_404(request_id)
    if original.status not in DECIDED:
        flash(_("Only a decided request can be assessed again."), "error")
        return redirect(url_for("take_home.show", request_id=request_id))
    patient = policy.current_patient()
    if original.kind is RequestKind.PERIOD:
        form = _period_form(patient)
        if request.method == "GET":
            form.first_day.data, form.last_day.data = original.first_day, original.last_day
            form.reason.data = original.reason.value if original.reason else ""
            form.place.data = original.place.value if original.place else None
            form.place_name.data = original.place_name
            form.abroad.data = original.abroad.value
            form.explanation.data = original.explanation
        return _ask(patient, form, "take_home/period_form.html", original)
    arrangement = ArrangementRequestForm()
    if request.method == "GET":
        arrangement.change.data = original.change.value if original.change else ""
        arrangement.explanation.data = original.explanation
        arrangement.place_name.data = original.place_name
    return _ask(patient, arrangement, "take_home/arrangement_form.html", original)
