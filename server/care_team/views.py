"""The care team for patients ("My team") and for relatives with the care-team scope."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.care_team import areas, team, transfers
from server.care_team.forms import VisibilityForm
from server.models import AccessTarget, RelativeScope
from server.models.clinic import OpeningHours
from server.services.phone_numbers import display_phone, tel_href

bp = Blueprint("team", __name__, url_prefix="/me/team")
relative_bp = Blueprint("relative_team", __name__, url_prefix="/relative")


@bp.app_template_filter("tel")
def tel(number: str) -> str:
    """``{{ number|tel }}``: the href of a tap-to-call link."""
    return tel_href(number)


@bp.app_template_filter("phone")
def phone(number: str) -> str:
    """``{{ number|phone }}``: a phone number as people read it (22 00 00 00)."""
    return display_phone(number)


@bp.app_template_global()
def opening_hours(hours: team.Hours | OpeningHours) -> str:
    """"Mon–Fri 08:00–15:30" in the current language, or "" when no times are set."""
    if isinstance(hours, OpeningHours):
        hours = team.Hours(tuple(hours.open_days or ()), hours.opens_at, hours.closes_at,
                           hours.answers_within_days)
    return team.describe_hours(hours)


@bp.get("/")
def index() -> str:
    """Who is responsible for what, how to reach them, and emergency numbers."""
    patient = policy.current_patient()
    moving = transfers.open_transfer(patient.id)
    return render_template(
        "team/index.html", patient=patient, view=team.team_for(patient),
        moving=moving, form=VisibilityForm(),
        differences=transfers.rule_differences(patient.clinic, moving.to_clinic)
        if moving else [])


@bp.get("/history")
def history() -> str:
    """Who was responsible for what, and when."""
    patient = policy.current_patient()
    return render_template("team/history.html", patient=patient, rows=team.history(patient),
                           area=areas.area, member_view=team.member_view)


@bp.post("/members/<int:member_id>/relatives")
def visibility(member_id: int) -> WerkzeugResponse:
    """The patient's choice: may relatives with the care-team scope see this member?"""
    member = policy.get_own_team_member_or_404(member_id)
    form = VisibilityForm()
    if form.validate_on_submit():
        team.set_visible_to_relatives(member, form.visible.data == "1")
        flash(_("Saved. Your relatives see this from their next click."), "success")
    return redirect(url_for("team.index"))


@relative_bp.get("/patients/<int:patient_id>/team")
def relative_team(patient_id: int) -> str:
    """The team as the patient lets a relative see it."""
    access = policy.get_relative_access_or_404(patient_id, RelativeScope.CARE_TEAM,
                                               AccessTarget.CARE_TEAM)
    return render_template("team/relative.html", access=access,
                           view=team.team_for(access.patient, for_relatives=True))
