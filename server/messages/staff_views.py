"""Staff: the clinic's inbox of conversations, one conversation, quick answers, email."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.extensions import db
from server.forms.common import ConfirmForm, attach_error, options
from server.labels import TOPICS
from server.messages import conversations
from server.messages.forms import (
    AnswerForm,
    AssignForm,
    CalledForm,
    EmailSettingsForm,
    InboxFilterForm,
    QuickAnswerForm,
    StaffMessageForm,
)
from server.messages.models import Conversation, Topic
from server.models import AccessTarget, User
from server.numbers import row_id

bp = Blueprint("staff_messages", __name__, url_prefix="/staff/messages")


@bp.get("/")
def inbox() -> str:
    """Conversations of my clinics, by filter: unanswered (oldest first) by default."""
    form = InboxFilterForm(request.args)
    form.validate()  # a value no page offers falls back to the default view
    which = form.show.data if form.show.data and not form.show.errors else \
        conversations.InboxFilter.UNANSWERED
    topic = Topic(form.topic.data) if form.topic.data and not form.topic.errors else None
    clinic_ids = policy.staff_clinic_ids(current_user)
    rows = conversations.inbox(clinic_ids, current_user, which, topic)
    policy.record_reads([row.conversation.patient for row in rows], AccessTarget.CONVERSATION)
    return render_template("staff/messages/inbox.html", rows=rows, form=form, which=which,
                           counts=conversations.counts(clinic_ids, current_user),
                           topics=TOPICS)


def _forms(conversation: Conversation, answer: AnswerForm | None = None,
           called: CalledForm | None = None,
           assign: AssignForm | None = None) -> tuple[AnswerForm, CalledForm, AssignForm]:
    clinic_id = conversation.patient.clinic_id
    answer = answer or AnswerForm()
    answer.quick.choices = options([("", _("None")), *(
        (str(q.id), q.title) for q in conversations.quick_answers(clinic_id))])
    assign = assign or AssignForm()
    assign.assignee.choices = options([("", _("Nobody (the clinic's inbox)")), *(
        (str(u.id), u.display_name) for u in conversations.assignable(clinic_id))])
    if not assign.assignee.raw_data:
        assign.assignee.data = str(conversation.assigned_to_id or "")
    return answer, called or CalledForm(), assign


def _page(conversation: Conversation, answer: AnswerForm | None = None,
          called: CalledForm | None = None, assign: AssignForm | None = None) -> str:
    answer, called, assign = _forms(conversation, answer, called, assign)
    since = conversation.waiting_since
    clinic = conversation.patient.clinic
    return render_template(
        "staff/messages/conversation.html", conversation=conversation, patient=conversation.patient,
        answer=answer, called=called, assign=assign, confirm=ConfirmForm(), topics=TOPICS,
        answer_by=conversations.answer_by(clinic, since) if since else None,
        overdue=conversations.is_overdue(conversation),
        may_withdraw=lambda m: conversations.may_withdraw(m, current_user))


@bp.get("/<int:conversation_id>")
def show(conversation_id: int) -> str:
    """One conversation (logged); opening it marks the patient's messages read."""
    conversation = policy.get_conversation_or_404(conversation_id)
    conversations.mark_read_by_team(conversation, current_user)
    return _page(conversation)


@bp.post("/<int:conversation_id>/answer")
def answer(conversation_id: int) -> str | WerkzeugResponse:
    """Send the answer, or ("use") put a quick answer into the text without sending."""
    conversation = policy.get_conversation_or_404(conversation_id)
    form, _called, _assign = _forms(conversation)
    if request.form.get("action") == "use":
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for("staff_messages.show", conversation_id=conversation.id))
        quick_id = row_id(form.quick.data or "")
        quick = next((q for q in conversations.quick_answers(conversation.patient.clinic_id)
                      if q.id == quick_id), None)
        if quick is None:
            form.quick.errors = [_("Choose a quick answer first.")]
        else:
            typed = conversations.clean(form.body.data or "")
            form.body.data = f"{typed}\n\n{quick.body}" if typed else quick.body
        return _page(conversation, answer=form)
    if form.validate_on_submit():
        try:
            conversations.answer(conversation, current_user, form.body.data or "")
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Answer sent. The patient is told by their own channels."), "success")
            return redirect(url_for("staff_messages.show", conversation_id=conversation.id))
    return _page(conversation, answer=form)


@bp.post("/<int:conversation_id>/called")
def called(conversation_id: int) -> str | WerkzeugResponse:
    """"I have called the patient": answered without a written answer."""
    conversation = policy.get_conversation_or_404(conversation_id)
    form = CalledForm()
    if form.validate_on_submit():
        try:
            conversations.called(conversation, current_user, form.note.data or "")
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Noted that you called the patient."), "success")
            return redirect(url_for("staff_messages.show", conversation_id=conversation.id))
    return _page(conversation, called=form)


@bp.post("/<int:conversation_id>/assign")
def assign(conversation_id: int) -> str | WerkzeugResponse:
    conversation = policy.get_conversation_or_404(conversation_id)
    _answer, _called, form = _forms(conversation)
    if form.validate_on_submit():
        chosen = row_id(form.assignee.data or "")
        to = db.session.get(User, chosen) if chosen else None
        try:
            conversations.assign(conversation, to, current_user)
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Assigned to %(who)s.", who=to.display_name) if to else
                  _("Assigned to nobody: it waits in the clinic's inbox."), "success")
            return redirect(url_for("staff_messages.show", conversation_id=conversation.id))
    return _page(conversation, assign=form)


@bp.post("/<int:conversation_id>/close")
def close(conversation_id: int) -> WerkzeugResponse:
    conversation = policy.get_conversation_or_404(conversation_id)
    if ConfirmForm().validate_on_submit():
        try:
            conversations.close(conversation, current_user)
        except conversations.MessageError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Closed. If the patient writes again, it opens again."), "success")
    return redirect(url_for("staff_messages.show", conversation_id=conversation.id))


@bp.post("/<int:conversation_id>/messages/<int:message_id>/withdraw")
def withdraw(conversation_id: int, message_id: int) -> WerkzeugResponse:
    conversation = policy.get_conversation_or_404(conversation_id)
    message = policy.get_message_in_or_404(conversation, message_id)
    if ConfirmForm().validate_on_submit():
        try:
            conversations.withdraw(message, current_user)
        except conversations.MessageError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Withdrawn. The patient sees that a message was withdrawn."), "success")
    return redirect(url_for("staff_messages.show", conversation_id=conversation.id))


@bp.route("/patients/<int:patient_id>/new", methods=["GET", "POST"])
def new(patient_id: int) -> str | WerkzeugResponse:
    """Write to a patient first; they get it by their own channels (a letter for some)."""
    patient = policy.get_patient_or_404(patient_id, "message", AccessTarget.NAME)
    form = StaffMessageForm()
    if form.validate_on_submit():
        try:
            message = conversations.start_by_staff(
                patient, current_user, form.body.data or "",
                Topic(form.topic.data) if form.topic.data else None)
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Sent. The patient is told by their own channels."), "success")
            return redirect(url_for("staff_messages.show",
                                    conversation_id=message.conversation_id))
    return render_template("staff/messages/new.html", patient=patient, form=form)


@bp.route("/quick-answers/<int:clinic_id>", methods=["GET", "POST"])
def quick_answers(clinic_id: int) -> str | WerkzeugResponse:
    """The clinic's quick answers (clinic admins)."""
    clinic = policy.get_clinic_or_404(clinic_id, "manage_clinic")
    form = QuickAnswerForm()
    if form.validate_on_submit():
        try:
            conversations.add_quick_answer(clinic.id, form.title.data or "",
                                           form.body.data or "", current_user)
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Quick answer added."), "success")
            return redirect(url_for("staff_messages.quick_answers", clinic_id=clinic.id))
    return render_template("staff/messages/quick_answers.html", clinic=clinic, form=form,
                           answers=conversations.quick_answers(clinic.id), confirm=ConfirmForm())


@bp.post("/quick-answers/item/<int:quick_id>/archive")
def archive_quick_answer(quick_id: int) -> WerkzeugResponse:
    quick = policy.get_quick_answer_or_404(quick_id)
    if ConfirmForm().validate_on_submit():
        conversations.archive_quick_answer(quick)
        flash(_("Quick answer removed."), "success")
    return redirect(url_for("staff_messages.quick_answers", clinic_id=quick.clinic_id))


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> str | WerkzeugResponse:
    """My own choice: an email when a conversation assigned to me gets a message."""
    form = EmailSettingsForm()
    if request.method == "GET":
        form.notify.data = current_user.notify_messages_by_email
    elif form.validate_on_submit():
        current_user.notify_messages_by_email = bool(form.notify.data)
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("staff_messages.settings"))
    return render_template("staff/messages/settings.html", form=form)
