"""Staff: the worklist, and the letter queue with its day's PDF."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import parse_qs, urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from server import labels, policy
from server.care_team import areas, handovers, team, transfers
from server.extensions import db
from server.forms.common import ConfirmForm, options
from server.forms.worklist import AssignForm, DoneForm, WorkForm
from server.messages import conversations
from server.models import AccessTarget, PatientProfile, User, WorkItem, WorkKind
from server.models.base import utcnow
from server.notify.letter import render_letters_pdf
from server.numbers import row_id
from server.plans import agenda
from server.services import letters, relatives, take_home, worklist
from server.services.errors import DomainError
from server.services.local_time import oslo_today
from server.views.staff_feedback import feedback_titles

bp = Blueprint("worklist", __name__, url_prefix="/staff")

#: Patients with gaps named on the worklist (the total counts them all).
GAPS_SHOWN = 50


def _filters() -> tuple[worklist.Filters, list[str], list[User]]:
    """The worklist filters from the URL, the names of those ignored, and the colleagues."""
    staff = worklist.colleagues(policy.staff_clinic_ids(current_user))
    filters, bad = worklist.parse_filters(request.args, {u.id for u in staff})
    return filters, bad, staff


def _back(form: WorkForm) -> WerkzeugResponse:
    """Back to the list the action came from: its filters are read again, not trusted."""
    query = parse_qs((form.back.data or "")[:500])
    args = {k: v[0] for k, v in query.items() if v}
    staff = worklist.colleagues(policy.staff_clinic_ids(current_user))
    filters, _bad = worklist.parse_filters(args, {u.id for u in staff})
    return redirect(url_for("worklist.index", **filters.args()) + "#items")


def _assign_choices(staff: list[User]) -> list[SelectChoice]:
    return options([("me", _("Me")), ("none", _("Nobody (the clinic)")),
                    *((str(u.id), u.display_name) for u in staff if u.id != current_user.id)])


def _item_reads(items: list[WorkItem]) -> list[tuple[list[PatientProfile], AccessTarget]]:
    """Each item is logged as what it shows of the patient."""
    shown: dict[AccessTarget, list[PatientProfile]] = defaultdict(list)
    for item in items:
        shown[policy.work_target(item)].append(item.patient)
    return [(patients, target) for target, patients in shown.items()]


@bp.get("/worklist")
def index() -> str:
    """Work waiting for staff of my clinics: filters, sort and grouping from the URL. Without
    filters the page also shows handovers, late messages, gaps and take-home requests."""
    clinic_ids = policy.staff_clinic_ids(current_user)
    filters, bad, staff = _filters()
    # The summary first: it may commit (overdue handovers), which would expire the items.
    context, reads = _summary(clinic_ids) if not filters.narrowed else ({}, [])
    items, total = worklist.find(clinic_ids, filters, current_user)
    policy.record_list_reads(reads + _item_reads(items))  # one INSERT for the whole page
    observations = relatives.observations_by_id(
        [found for item in items if item.kind is WorkKind.RELATIVE_OBSERVATION
         and (found := item.details.get("observation_id")) is not None])
    form = AssignForm()
    form.assignee.choices = _assign_choices(staff)
    back = urlencode(filters.args())
    page = render_template(
        "staff/worklist.html", items=items, total=total, filters=filters, bad=bad,
        staff=staff, groups=worklist.by_patient(items) if filters.group else None,
        done_form=DoneForm(back=back), assign_form=form, back=back, today=oslo_today(),
        titles=feedback_titles(), observations=observations, area=areas.area,
        kinds=list(WorkKind), ages=worklist.AGES, now=utcnow(), **context,
        kind_names={k.value: str(labels.WORK_KINDS[k.value]) for k in WorkKind},
        page_size=worklist.PAGE_SIZE)
    relatives.mark_observations_read(current_user, ids=list(observations))
    return page


def _summary(clinic_ids: list[int]
             ) -> tuple[dict[str, object], list[tuple[list[PatientProfile], AccessTarget]]]:
    """What the unfiltered worklist shows above the items, and the patients it shows, by
    what it shows of them (for the access log)."""
    handovers.escalate_overdue()  # first: it commits, which would expire what is loaded
    requests = take_home.open_for_clinics(clinic_ids)
    waiting = handovers.waiting_for(current_user, clinic_ids)
    incoming = transfers.incoming(clinic_ids)
    gaps = team.gap_counts(clinic_ids)
    gap_patients = list(db.session.scalars(select(PatientProfile).where(
        PatientProfile.id.in_(list(gaps)[:GAPS_SHOWN])).options(joinedload(PatientProfile.user))))
    late = conversations.overdue(clinic_ids, limit=GAPS_SHOWN)
    talks = agenda.tomorrow_with_wishes(clinic_ids)
    reads = [
        ([found.patient for found in requests], AccessTarget.TAKE_HOME),
        ([h.patient for found in waiting.values() for h in found] + gap_patients,
         AccessTarget.CARE_TEAM),
        ([t.patient for t in incoming], AccessTarget.TRANSFER),
        ([c.patient for c in late], AccessTarget.CONVERSATION),
        ([t.appointment.patient for t in talks], AccessTarget.APPOINTMENT),
    ]
    return {"talks": talks, "requests": requests, "waiting": waiting, "incoming": incoming,
            "gaps": gaps, "gap_patients": gap_patients, "late_conversations": late}, reads


@bp.get("/worklist/<int:item_id>")
def item(item_id: int) -> str:
    """One item with its history: who took it, what changed, who did it."""
    work = policy.get_work_item_or_404(item_id)
    staff = worklist.colleagues([work.clinic_id])
    form = AssignForm()
    form.assignee.choices = _assign_choices(staff)
    observations = relatives.observations_by_id(
        [work.details["observation_id"]] if work.kind is WorkKind.RELATIVE_OBSERVATION
        and work.details.get("observation_id") is not None else [])
    return render_template("staff/work_item.html", item=work, events=worklist.history(work),
                           assign_form=form, done_form=DoneForm(), confirm=ConfirmForm(),
                           back="", titles=feedback_titles(), observations=observations)


@bp.post("/worklist/<int:item_id>/assign")
def assign(item_id: int) -> WerkzeugResponse:
    """Take an item, give it to a colleague of its clinic, or give it back to the clinic."""
    work = policy.get_work_item_or_404(item_id)
    form = AssignForm()
    form.assignee.choices = _assign_choices(worklist.colleagues([work.clinic_id]))
    if form.validate_on_submit():
        choice = form.assignee.data
        to = (current_user if choice == "me" else None if choice == "none"
              else db.session.get(User, int(choice)))
        try:
            worklist.assign(work, to, current_user)
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(_("Nobody has it now: it is the clinic's to share.") if to is None
                  else _("You have it now.") if to.id == current_user.id
                  else _("Given to %(name)s.", name=to.display_name), "success")
    else:
        flash(_("Choose who should have it."), "error")
    return _back(form)


@bp.post("/worklist/<int:item_id>/done")
def done(item_id: int) -> WerkzeugResponse:
    work = policy.get_work_item_or_404(item_id)
    form = DoneForm()
    if form.validate_on_submit():
        if worklist.mark_done(work, current_user, form.note.data or ""):
            flash(_("Marked as done."), "success")
        else:
            flash(_("Someone had already marked it as done."), "info")
    else:
        flash(_("Keep the note under 500 characters."), "error")
    return _back(form)


@bp.post("/worklist/done")
def done_many() -> WerkzeugResponse:
    """Mark the chosen items done, with one note for all."""
    form = DoneForm()
    ids = [i for i in map(row_id, request.form.getlist("item_id")) if i is not None]
    if not form.validate_on_submit():
        flash(_("Keep the note under 500 characters."), "error")
    elif not ids:
        flash(_("Choose the items that are done first."), "error")
    else:
        try:
            count = worklist.mark_many_done(policy.my_work_items(ids[:worklist.BULK_MAX + 1]),
                                            current_user, form.note.data or "")
        except DomainError as exc:
            flash(str(exc.message), "error")
        else:
            flash(ngettext("%(num)d item marked as done.", "%(num)d items marked as done.",
                           count), "success")
    return _back(form)


@bp.post("/worklist/<int:item_id>/reopen")
def reopen(item_id: int) -> WerkzeugResponse:
    """Open a done item again (marked done by mistake, or there is more to do)."""
    work = policy.get_work_item_or_404(item_id)
    if ConfirmForm().validate_on_submit():
        worklist.reopen(work, current_user)
        flash(_("The item is open again."), "success")
    return redirect(url_for("worklist.item", item_id=item_id))


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
