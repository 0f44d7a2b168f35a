"""The patient's conversations with their care team (/me/messages)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server import policy
from server.care_team import team
from server.care_team.models import TeamService
from server.forms.common import ConfirmForm, attach_error
from server.labels import ACCESS_TARGETS, TOPICS
from server.messages import conversations
from server.messages.forms import NewMessageForm, ReplyForm
from server.messages.models import Conversation, ConversationMessage, Topic
from server.models import PatientProfile
from server.numbers import row_id
from server.services import access_log
from server.services.take_home import new_client_key
from server.web import local_datetime

bp = Blueprint("messages", __name__, url_prefix="/me/messages")


def _readers(patient: PatientProfile) -> dict[str, object]:
    """Who reads a message, and by when the team answers: for the page that says so."""
    view = team.team_for(patient)
    coordinator = view.coordinator
    others = [m.label for m in view.members
              if m.service is TeamService.CLINIC and m is not coordinator]
    return {"coordinator": coordinator.label if coordinator else None, "others": others,
            "answer_days": conversations.answer_days(patient.clinic)}


@bp.get("/")
def index() -> str:
    """The patient's conversations, open ones first."""
    patient = policy.current_patient()
    return render_template("messages/index.html", patient=patient,
                           conversations=conversations.for_patient(patient), topics=TOPICS,
                           **_readers(patient))


@bp.route("/new", methods=["GET", "POST"])
def new() -> str | WerkzeugResponse:
    """Write to the care team. Kept on the phone while offline; stored once per key."""
    patient = policy.current_patient()
    form = NewMessageForm()
    if request.method == "GET" and not form.client_key.data:
        form.client_key.data = new_client_key()
        about = access_log.entry_of(patient, row_id(request.args.get("about", "")))
        if about is not None:  # from "Who has seen my information": "Do not recognise this?"
            form.topic.data = Topic.OTHER.value
            form.body.data = _(
                "I do not recognise this in “Who has seen my information”: %(name)s opened "
                "%(what)s on %(when)s. Can you tell me why?", name=about.viewer.display_name,
                what=ACCESS_TARGETS[about.target], when=local_datetime(about.at, "long"))
    if form.validate_on_submit():
        try:
            message = conversations.start(patient, form.body.data or "",
                                          Topic(form.topic.data) if form.topic.data else None,
                                          form.client_key.data or "")
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Sent. Your team reads it and answers you here."), "success")
            return redirect(url_for("messages.show", conversation_id=message.conversation_id))
    return render_template("messages/new.html", patient=patient, form=form, **_readers(patient))


def _thread(conversation: Conversation, form: ReplyForm) -> str:
    patient = conversation.patient
    return render_template(
        "messages/show.html", patient=patient, conversation=conversation,
        states=conversations.states(conversation), form=form, confirm=ConfirmForm(),
        may_withdraw=lambda m: conversations.may_withdraw(m, current_user),
        author=lambda m: author_label(m, patient), topics=TOPICS, **_readers(patient))


@bp.route("/<int:conversation_id>", methods=["GET", "POST"])
def show(conversation_id: int) -> str | WerkzeugResponse:
    """One conversation: every message with its state, and a form to write again."""
    conversation = policy.get_own_conversation_or_404(conversation_id)
    form = ReplyForm()
    if request.method == "GET":
        conversations.mark_read_by_patient(conversation)
        form.client_key.data = new_client_key()
    elif form.validate_on_submit():
        try:
            message = conversations.write(conversation, conversation.patient,
                                          form.body.data or "", form.client_key.data or "")
        except conversations.MessageError as error:
            attach_error(form, error)
        else:
            flash(_("Sent to your team."), "success")
            return redirect(url_for("messages.show", conversation_id=message.conversation_id,
                                    _anchor=f"m{message.id}"))
    return _thread(conversation, form)


@bp.post("/<int:conversation_id>/close")
def close(conversation_id: int) -> WerkzeugResponse:
    conversation = policy.get_own_conversation_or_404(conversation_id)
    if ConfirmForm().validate_on_submit():
        conversations.close(conversation, current_user)
        flash(_("Closed. If you write again, it opens again."), "success")
    return redirect(url_for("messages.show", conversation_id=conversation.id))


@bp.post("/<int:conversation_id>/messages/<int:message_id>/withdraw")
def withdraw(conversation_id: int, message_id: int) -> WerkzeugResponse:
    conversation = policy.get_own_conversation_or_404(conversation_id)
    message = policy.get_message_in_or_404(conversation, message_id)
    if ConfirmForm().validate_on_submit():
        try:
            conversations.withdraw(message, current_user)
        except conversations.MessageError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Withdrawn. Your team sees that you withdrew a message."), "success")
    return redirect(url_for("messages.show", conversation_id=conversation.id))


def author_label(message: ConversationMessage, patient: PatientProfile) -> str:
    """Who wrote a team message, as the patient reads it: name and role where the clinic
    shows names, else the role."""
    if message.from_patient:
        return _("You")
    author = message.author
    membership = next((m for m in author.memberships if m.clinic_id == patient.clinic_id),
                      None) or (author.memberships[0] if author.memberships else None)
    role = str(team.ROLE_WORDS.get(membership.role, "")) if membership else ""
    if patient.clinic.show_staff_names:
        return f"{author.display_name} ({role})" if role else author.display_name
    return role or _("Your team")
