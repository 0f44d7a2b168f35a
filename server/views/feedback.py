"""The patient's check-ins: answer in under a minute, see your own answers over time."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.charts import LineChart, line_chart
from server.forms.feedback import ANONYMOUS, CheckInForm
from server.models import FeedbackResponse
from server.numbers import row_id, whole_number
from server.services import feedback, instruments
from server.services.feedback import Answer, FeedbackError

bp = Blueprint("feedback", __name__, url_prefix="/me/feedback")


def language() -> str:
    return getattr(get_locale(), "language", None) or "nb"


def trend_charts(history: dict[str, list[FeedbackResponse]]) -> dict[str, LineChart]:
    """A chart of the totals per instrument (answers with every item), for patient and staff."""
    charts = {}
    for key, responses in history.items():
        instrument = instruments.latest(key)
        full = [r for r in responses if r.total is not None]
        if instrument is None or not full:
            continue
        charts[key] = line_chart([(format_date(r.created_at, "short"), float(r.total or 0))
                                  for r in full], instrument.max_total)
    return charts


@bp.get("/")
def index() -> str:
    """Open invitation, check in now, and my answers over time as a chart and a table."""
    patient = policy.current_patient()
    history = feedback.history(patient)
    return render_template(
        "feedback/index.html", patient=patient, lang=language(),
        invitation=feedback.open_invitation(patient), instruments=instruments.current(),
        history=history, charts=trend_charts(history), get_instrument=instruments.get)


@bp.route("/<key>", methods=["GET", "POST"])
def check_in(key: str) -> str | WerkzeugResponse:
    """One check-in: the instrument's items as 0-10 buttons, a comment, and who gets it."""
    patient = policy.current_patient()
    instrument = instruments.latest(key)
    if instrument is None:
        abort(404)
    form = CheckInForm()
    if request.method == "GET":
        form.client_key.data = secrets.token_hex(16)
        invitation = feedback.open_invitation(patient)
        if invitation is not None and invitation.instrument_key == key:
            form.invitation.data = str(invitation.id)
    errors: dict[str, str] = {}
    chosen = {k: request.form.get(k, "") for k in instrument.item_keys}
    if form.validate_on_submit():
        try:
            scores = feedback.check_scores(instrument, chosen)
            invitation_id = row_id(form.invitation.data)
            feedback.submit(patient, Answer(
                instrument=instrument, scores=scores, comment=form.comment.data or "",
                anonymous=form.destination.data == ANONYMOUS,
                client_key=(form.client_key.data or "")[:64] or None,
                invitation_id=invitation_id))
        except FeedbackError as exc:
            if exc.field in instrument.item_keys:
                errors = {k: str(exc.message) for k in instrument.item_keys
                          if whole_number(chosen.get(k), 0, max(instruments.SCALE)) is None}
                errors.setdefault(exc.field, str(exc.message))
            elif exc.field == "comment":
                form.comment.errors = [str(exc.message)]
            else:
                flash(str(exc.message), "error")
                return redirect(url_for("feedback.index"))
        else:
            flash(_("Thank you! Your answer is saved."), "success")
            return redirect(url_for("feedback.index"))
    return render_template("feedback/check_in.html", form=form, instrument=instrument,
                           lang=language(), chosen=chosen, errors=errors)


@bp.get("/you-said-we-did")
def you_said_we_did() -> str:
    patient = policy.current_patient()
    return render_template("feedback/you_said_we_did.html",
                           settings=feedback.settings_for(patient.clinic_id),
                           clinic=patient.clinic)
