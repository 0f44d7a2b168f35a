"""Staff: the worklist, and the letter queue with its day's PDF."""

from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.care_team import areas, handovers, team, transfers
from server.extensions import db
from server.forms.common import ConfirmForm
from server.forms.staff_appointments import DoneForm
from server.messages import conversations
from server.models import AccessTarget, PatientProfile, WorkKind
from server.notify.letter import render_letters_pdf
from server.numbers import row_id
from server.services import letters, relatives, take_home, worklist
from server.services.local_time import oslo_today
from server.views.staff_feedback import feedback_titles

bp = Blueprint("worklist", __name__, url_prefix="/staff")

#: Patients with gaps named on the worklist (the total counts them all).
GAPS_SHOWN = 50


@bp.get("/worklist")
def index() -> str:
    """Work waiting for staff of my clinics, oldest first."""
    clinic_ids = policy.staff_clinic_ids(current_user)
    items = worklist.open_items(clinic_ids)
    requests = take_home.open_for_clinics(clinic_ids)
    # Each item is logged as what it shows of the patient.
    shown: dict[AccessTarget, list[PatientProfile]] = defaultdict(list)
    for item in items:
        shown[policy.work_target(item)].append(item.patient)
    shown[AccessTarget.TAKE_HOME].extend(found.patient for found in requests)
    handovers.escalate_overdue()
    waiting = handovers.waiting_for(current_user, clinic_ids)
    incoming = transfers.incoming(clinic_ids)
    gaps = team.gap_counts(clinic_ids)
    gap_patients = list(db.session.scalars(select(PatientProfile).where(
        PatientProfile.id.in_(list(gaps)[:GAPS_SHOWN]))))
    shown[AccessTarget.CARE_TEAM].extend(h.patient for found in waiting.values() for h in found)
    shown[AccessTarget.CARE_TEAM].extend(gap_patients)
    shown[AccessTarget.TRANSFER].extend(t.patient for t in incoming)
    late = conversations.overdue(clinic_ids, limit=GAPS_SHOWN)
    shown[AccessTarget.CONVERSATION].extend(c.patient for c in late)
    for target, patients in shown.items():
        policy.record_reads(patients, target)
    observations = relatives.observations_by_id(
        [item.details["observation_id"] for item in items
         if item.kind is WorkKind.RELATIVE_OBSERVATION])
    page = render_template("staff/worklist.html", items=items, form=DoneForm(),
                           requests=requests, today=oslo_today(), titles=feedback_titles(),
                           observations=observations, waiting=waiting, incoming=incoming,
                           gaps=gaps, gap_patients=gap_patients, area=areas.area,
                           late_conversations=late)
    relatives.mark_observations_read(current_user, ids=list(observations))
    return page


@bp.post("/worklist/<int:item_id>/done")
def done(item_id: int) -> WerkzeugResponse:
    item = policy.get_work_item_or_404(item_id)
    form = DoneForm()
    if form.validate_on_submit():
        worklist.mark_done(item, current_user, form.note.data or "")
        flash(_("Marked as done."), "success")
    return redirect(url_for("worklist.index"))


@bp.get("/letters")
def letter_queue() -> str:
    """Letters waiting to be printed."""
    queued = letters.queued(policy.staff_clinic_ids(current_user))
    policy.record_reads([message.patient for message in queued], AccessTarget.CONTACT_DETAILS)
    return render_template("staff/letters.html", queued=queued, form=ConfirmForm())


@bp.get("/letters.pdf")
def letters_pdf() -> Response:
    """Every queued letter as one PDF to print."""
    queued = letters.queued(policy.staff_clinic_ids(current_user))
    policy.record_reads([message.patient for message in queued], AccessTarget.MESSAGES)
    response = Response(render_letters_pdf(queued), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="letters.pdf"'
    return response


@bp.post("/letters/printed")
def letters_printed() -> WerkzeugResponse:
    """Mark the letters listed on the page as printed."""
    if ConfirmForm().validate_on_submit():
        ids = [i for i in map(row_id, request.form.getlist("message_id")) if i is not None]
        count = letters.mark_printed(policy.staff_clinic_ids(current_user), ids)
        flash(_("%(n)d letters marked as printed.", n=count), "success")
    return redirect(url_for("worklist.letter_queue"))
