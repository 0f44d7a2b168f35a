"""The patient's own pages."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.forms.common import ConfirmForm
from server.services import access_log, accounts, for_you, my_information
from server.services.local_time import oslo_today
from server.services.phone_numbers import display_mobile

bp = Blueprint("patient", __name__, url_prefix="/me")


@bp.get("/")
def home() -> str:
    """Home: the sections a patient uses, each ready for its own feature."""
    patient = policy.current_patient()
    home = for_you.home_for(patient)
    return render_template("patient/home.html", patient=patient,
                           next_appointment=home.next_appointment, for_you=home.items)


@bp.get("/settings")
def me() -> str:
    """Me: the number I sign in with, reminders, signing in with fingerprint or face, where
    I am signed in, and who has seen my information."""
    patient = policy.current_patient()
    return render_template("patient/me.html", patient=patient,
                           display_mobile=display_mobile)


@bp.get("/who-has-seen")
def access_log_page() -> str:
    """Who has opened my information, a month at a time, newest first, in plain words;
    reads of the same thing by the same person on the same day as one line."""
    patient = policy.current_patient()
    months = access_log.months_with_entries(patient)
    month = _month(request.args.get("month", ""), months)
    index = months.index(month) if month in months else -1
    return render_template(
        "patient/access_log.html", patient=patient, month=month,
        groups=access_log.grouped_for(patient, month),
        newer=months[index - 1] if index > 0 else None,
        older=months[index + 1] if 0 <= index < len(months) - 1 else None)


def _month(text: str, months: list[date]) -> date:
    """The month asked for (2026-12), else the newest with entries, else this one."""
    try:
        year, number = (int(part) for part in text.split("-"))
        return date(year, number, 1) if 2000 <= year <= 2999 and 1 <= number <= 12 else \
            _month("", months)
    except ValueError:
        today = oslo_today()
        return months[0] if months else date(today.year, today.month, 1)


@bp.get("/my-information")
def my_information_page() -> str:
    """What "Download my information" gives, and the two downloads."""
    return render_template("patient/my_information.html", patient=policy.current_patient(),
                           form=ConfirmForm())


@bp.post("/my-information/<any(pdf, json):kind>")
def my_information_download(kind: str) -> WerkzeugResponse:
    """Everything about me as a PDF or as JSON; a POST, so it is never fetched by accident,
    and written to the access log."""
    patient = policy.current_patient()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("patient.my_information_page"))
    export = my_information.collect(patient)
    body = my_information.as_pdf(export) if kind == "pdf" else my_information.as_json(export)
    my_information.log_download(patient, kind)
    response = Response(body, mimetype="application/pdf" if kind == "pdf" else "application/json")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="folge-{export.made_at:%Y-%m-%d}.{kind}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/stop", methods=["GET", "POST"])
def stop_using() -> str | WerkzeugResponse:
    """Stop using Følge: a page that says what happens and what is kept, then a
    confirmation. Signs out on every phone."""
    patient = policy.current_patient()
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.stop_using(patient)
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
        flash(_("You have stopped using Følge, and your clinic has been told. You can sign in "
                "again at any time."), "info")
        return redirect(url_for("auth.sign_in", signed_out=1))
    return render_template("patient/stop.html", patient=patient, form=form)
