"""Staff: a patient's check-ins, the clinic's feedback figures, exports and settings."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import PeriodForm
from server.forms.feedback import FeedbackSettingsForm
from server.models import AccessTarget, Clinic
from server.numbers import whole_number
from server.services import feedback, instruments
from server.services.local_time import oslo_today
from server.views.feedback import language, trend_charts

bp = Blueprint("staff_feedback", __name__, url_prefix="/staff")


@bp.get("/patients/<int:patient_id>/feedback")
def patient(patient_id: int) -> str:
    """The patient's trend, comments and alerts. Opening it is access-logged."""
    profile = policy.get_patient_or_404(patient_id, "view", AccessTarget.FEEDBACK)
    history = feedback.history(profile)
    return render_template(
        "staff/feedback_patient.html", patient=profile, history=history,
        charts=trend_charts(history), alerts=feedback.alerts_for(profile), lang=language(),
        get_instrument=instruments.get, titles=feedback_titles())


def feedback_titles() -> dict[str, str]:
    """Instrument titles by key, in the current language."""
    lang = language()
    return {i.key: i.text(i.title, lang) for i in instruments.current()}


def _clinic_from_args() -> Clinic:
    clinics = [m.clinic for m in current_user.memberships]
    wanted = request.args.get("clinic", type=int)
    chosen = next((c for c in clinics if c.id == wanted), clinics[0] if clinics else None)
    return policy.get_clinic_or_404(chosen.id if chosen else 0, "view")


@bp.get("/feedback")
def clinic() -> str:
    """Response rate, monthly averages and anonymous comments for one of my clinics."""
    chosen = _clinic_from_args()
    form = PeriodForm(formdata=request.args)
    form.validate()
    first, last = form.period(oslo_today())
    return render_template(
        "staff/feedback_clinic.html", clinic=chosen, form=form, first=first, last=last,
        board=feedback.dashboard(chosen.id, first, last), titles=feedback_titles(),
        min_group=feedback.MIN_GROUP, clinics=[m.clinic for m in current_user.memberships],
        may_manage=policy.may_in_clinic("manage_clinic", chosen.id))


def _safe(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[list[object]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/feedback/responses.csv")
def export_responses() -> Response:
    """Identified responses of my chosen clinic. Each patient in it is access-logged."""
    chosen = _clinic_from_args()
    form = PeriodForm(formdata=request.args)
    form.validate()
    first, last = form.period(oslo_today())
    responses = feedback.identified_responses([chosen.id], first, last)
    policy.record_reads([r.patient for r in responses], AccessTarget.FEEDBACK)
    items: list[str] = []
    for instrument in instruments.current():
        items.extend(k for k in instrument.item_keys if k not in items)
    rows: list[list[object]] = [["patient_no", "patient", "instrument", "version", "date",
                                 "via", *items, "total", "comment"]]
    for r in responses:
        rows.append([r.patient_id, r.patient.display_name, r.instrument_key,
                     r.instrument_version, format_date(r.created_at, "yyyy-MM-dd"), r.via.value,
                     *[r.scores.get(k, "") for k in items], r.total, r.comment])
    return _csv(rows, f"feedback-{first}-{last}.csv")


@bp.get("/clinics/<int:clinic_id>/feedback/aggregates.csv")
def export_aggregates(clinic_id: int) -> Response:
    """Clinic admins: the monthly averages, with groups under 5 left empty."""
    chosen = policy.get_clinic_or_404(clinic_id, "manage_clinic")
    form = PeriodForm(formdata=request.args)
    form.validate()
    first, last = form.period(oslo_today())
    board = feedback.dashboard(chosen.id, first, last)
    rows: list[list[object]] = [["instrument", "month", "named_responses", "named_average",
                                 "anonymous_responses", "anonymous_average"]]

    def pair(count: int, mean: float | None) -> list[object]:
        return [count, f"{mean:.1f}"] if mean is not None else ["", ""]

    for key, months in board.averages.items():
        for m in months:
            rows.append([key, m.month, *pair(m.named, m.named_mean),
                         *pair(m.anonymous, m.anonymous_mean)])
    return _csv(rows, f"feedback-aggregates-{first}-{last}.csv")


@bp.route("/clinics/<int:clinic_id>/feedback", methods=["GET", "POST"])
def settings(clinic_id: int) -> str | WerkzeugResponse:
    """Clinic admins: alert thresholds per instrument and the "You said, we did" page."""
    chosen = policy.get_clinic_or_404(clinic_id, "manage_clinic")
    current = feedback.settings_for(chosen.id)
    form = FeedbackSettingsForm()
    checks = [i for i in instruments.current() if i.alert_rule != "none"]
    values = {i.key: request.form.get(f"threshold_{i.key}", "") for i in checks}
    errors: dict[str, str] = {}
    if request.method == "GET":
        form.you_said_we_did.data = current.you_said_we_did
        values = {i.key: str(feedback.threshold(chosen.id, i)) for i in checks}
    if form.validate_on_submit():
        thresholds = {}
        for instrument in checks:
            number = whole_number(values[instrument.key], 0, instrument.max_total)
            if number is None:
                errors[instrument.key] = _("Write a whole number from 0 to %(max)d.",
                                           max=instrument.max_total)
            else:
                thresholds[instrument.key] = number
        if not errors:
            feedback.save_settings(chosen, thresholds, form.you_said_we_did.data or "",
                                   current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("staff_feedback.settings", clinic_id=clinic_id))
    return render_template("staff/feedback_settings.html", clinic=chosen, form=form,
                           checks=checks, values=values, errors=errors, lang=language())
