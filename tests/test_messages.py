"""Messages between a patient and the care team: who may see them, nothing lost, nothing
sent twice, answers by the patient's own channels, overdue ones on the worklist (issue 12)."""

from __future__ import annotations

import html
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import func, select, update

from server.care_team import transfers
from server.extensions import db
from server.messages import conversations
from server.messages.models import (
    Conversation,
    ConversationMessage,
    ConversationStatus,
    MessageKind,
    Topic,
)
from server.models import (
    AccessLogEntry,
    AccessTarget,
    Channel,
    ConsentMethod,
    MessagePurpose,
    MessageStatus,
    ObservationKind,
    OutboxMessage,
    PatientProfile,
    StaffRole,
)
from server.models.base import utcnow
from server.notify import texts
from server.services import relatives
from server.services.local_time import oslo_today
from tests.conftest import CapturingSms, CareTeam, Client, Factory, World, deliver_now, sign_in_as
from tests.test_notifications import FORBIDDEN
from tests.test_relatives_invitations import CapturingEmail


@pytest.fixture(autouse=True)
def daytime(monkeypatch: pytest.MonkeyPatch) -> None:
    """No quiet hours for the worker, whatever the real clock says."""
    import server.notify.worker as worker_module

    monkeypatch.setattr(worker_module, "in_quiet_hours", lambda *args: False)


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


@pytest.fixture
def emails(app: Flask) -> CapturingEmail:
    box = CapturingEmail()
    app.extensions["folge_email"] = box
    return box


def count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def text_of(response: Any) -> str:
    return html.unescape(response.text)


def write(patient: PatientProfile, body: str = "Kan jeg flytte timen på torsdag?",
          key: str = "k1", topic: Topic | None = Topic.APPOINTMENTS) -> ConversationMessage:
    return conversations.start(patient, body, topic, key)


# -- the patient writes ------------------------------------------------------------------------

def test_the_page_says_who_reads_it_when_they_answer_and_that_it_is_not_for_emergencies(
        client: Client, world: World, kari_team: CareTeam) -> None:
    world.clinic_a.answers_within_days = 2
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = text_of(client.get("/me/messages/new"))
    assert "Your coordinator, Koordinator A (koordinator), reads it" in page
    assert "Doktor A (lege)" in page  # the rest of the team at the clinic, by name and role
    assert "You get an answer within 2 working days." in page
    assert "This is not for emergencies" in page
    assert 'href="tel:113"' in page and 'href="tel:116117"' in page
    assert "Up to 2\u00a0000 characters." in page and 'maxlength="2000"' in page


def test_a_message_is_assigned_to_the_coordinator_and_waits(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/messages/new").text
    key = page.split('name="client_key" type="hidden" value="')[1].split('"')[0]
    response = client.submit("/me/messages/new", {"client_key": key, "topic": "take_home",
                                                  "body": "Jeg skal på ferie i juli."})
    assert response.status_code == 302
    conversation = db.session.scalars(select(Conversation)).one()
    assert response.headers["Location"].endswith(f"/me/messages/{conversation.id}")
    assert conversation.assigned_to_id == world.coordinator_a.id
    assert conversation.topic is Topic.TAKE_HOME and conversation.waiting_since is not None
    shown = text_of(client.get(f"/me/messages/{conversation.id}"))
    assert "Jeg skal på ferie i juli." in shown and "Not read yet" in shown


def test_the_same_client_key_stores_one_message_also_when_sent_twice_at_once(
        world: World, kari_team: CareTeam) -> None:
    first = write(world.patient_x, key="twice")
    again = write(world.patient_x, body="Kan jeg flytte timen på torsdag?", key="twice")
    assert again.id == first.id
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    patient_id = world.patient_x.id
    stored: list[int] = []

    def send() -> None:
        with app.app_context():
            patient = db.session.get_one(PatientProfile, patient_id)
            stored.append(conversations.start(patient, "To faner samtidig", None, "race").id)
            db.session.remove()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored) == 2 and stored[0] == stored[1]
    assert count(ConversationMessage, ConversationMessage.client_key == "race") == 1
    assert count(ConversationMessage) == 2


def test_an_offline_resend_posts_the_same_key_and_nothing_is_doubled(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.patient_x.user)
    data = {"client_key": "offline-1", "topic": "", "body": "Skrevet på bussen uten nett."}
    first = client.submit("/me/messages/new", data)
    second = client.submit("/me/messages/new", data)
    assert first.headers["Location"] == second.headers["Location"]
    assert count(ConversationMessage) == 1 and count(Conversation) == 1


def test_a_crafted_overlong_client_key_still_stores_the_message_once(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/messages/new", {"client_key": "9" * 5000, "body": "Hei"})
    assert response.status_code == 302
    [message] = db.session.scalars(select(ConversationMessage)).all()
    assert message.body == "Hei" and message.client_key is None


def test_bad_input_gets_a_message_and_keeps_the_text(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.patient_x.user)
    long = "ord " * 501  # 2,004 characters
    response = client.submit("/me/messages/new", {"client_key": "k", "body": long})
    assert response.status_code == 200
    assert "Please keep it under 2000 characters." in response.text
    assert long.strip() in html.unescape(response.text)
    empty = client.submit("/me/messages/new", {"client_key": "k", "body": "   "})
    assert "Write your message first." in empty.text
    nul = client.submit("/me/messages/new", {"client_key": "k", "body": "Hei\x00 der"})
    assert "cannot be saved" in nul.text and "Hei der" in nul.text
    bad_topic = client.submit("/me/messages/new", {"client_key": "k", "body": "Hei",
                                                   "topic": "drugs"})
    assert "Choose one of the options shown." in bad_topic.text
    assert count(ConversationMessage) == 0


def test_control_characters_are_left_out_and_the_text_is_shown_escaped(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/messages/new", {
        "client_key": "ctl", "body": "Hei\x07 <script>alert(1)</script>\x1b"})
    assert response.status_code == 302
    [message] = db.session.scalars(select(ConversationMessage)).all()
    assert message.body == "Hei <script>alert(1)</script>"
    page = client.get(response.headers["Location"]).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_states_sent_read_answered_and_the_answer_reaches_the_patient(
        client: Client, world: World, kari_team: CareTeam, sms: CapturingSms,
        new_client: Any) -> None:
    message = write(world.patient_x)
    conversation = message.conversation
    staff = new_client()
    sign_in_as(staff, world.coordinator_a)
    sign_in_as(client, world.patient_x.user)
    assert "Not read yet" in text_of(client.get(f"/me/messages/{conversation.id}"))
    assert "Kan jeg flytte timen" in text_of(staff.get(f"/staff/messages/{conversation.id}"))
    page = text_of(client.get(f"/me/messages/{conversation.id}"))
    assert "Read by your team" in page and "Answered" not in page.split("Read by your team")[1][:40]
    response = staff.submit(f"/staff/messages/{conversation.id}/answer",
                            {"action": "send", "body": "Ja, vi flytter den til fredag."},
                            page=f"/staff/messages/{conversation.id}")
    assert response.status_code == 302
    db.session.refresh(conversation)
    assert conversation.waiting_since is None
    deliver_now(OutboxMessage.purpose == MessagePurpose.MESSAGE)
    # Patient X chose SMS; they wrote in the app, so the SMS only says there is a message.
    assert sms.sent[-1].body == texts.render("message", "sms", {"as_text": False},
                                             world.patient_x.user.language).body
    assert "fredag" not in sms.sent[-1].body
    page = text_of(client.get(f"/me/messages/{conversation.id}"))
    assert "Ja, vi flytter den til fredag." in page and "Answered" in page
    assert "Koordinator A (coordinator)" in page  # who answered, as the clinic shows names


def test_the_patient_closes_and_writing_again_opens_it(
        client: Client, world: World, kari_team: CareTeam) -> None:
    conversation = write(world.patient_x).conversation
    sign_in_as(client, world.patient_x.user)
    url = f"/me/messages/{conversation.id}"
    assert client.submit(f"{url}/close", page=url).status_code == 302
    db.session.refresh(conversation)
    assert conversation.status is ConversationStatus.CLOSED
    assert "This conversation is closed" in text_of(client.get(url))
    client.submit(url, {"client_key": "again", "body": "En ting til."})
    db.session.refresh(conversation)
    assert conversation.status is ConversationStatus.OPEN and conversation.waiting_since


def test_staff_close_only_after_answering(world: World, kari_team: CareTeam) -> None:
    conversation = write(world.patient_x).conversation
    with pytest.raises(conversations.MessageError, match="unanswered"):
        conversations.close(conversation, world.coordinator_a)
    conversations.called(conversation, world.coordinator_a, "Snakket i telefonen.")
    assert conversations.close(conversation, world.coordinator_a) is True
    assert conversations.close(conversation, world.doctor_a) is False  # closed already


def test_i_have_called_the_patient_counts_as_the_answer(
        client: Client, world: World, kari_team: CareTeam, new_client: Any) -> None:
    conversation = write(world.patient_x).conversation
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    url = f"/staff/messages/{conversation.id}"
    staff.submit(f"{url}/called", {"note": "Avtalt ny tid."}, page=url)
    db.session.refresh(conversation)
    assert conversation.waiting_since is None
    called = conversation.messages[-1]
    assert called.kind is MessageKind.CALLED and called.body == "Avtalt ny tid."
    assert count(OutboxMessage, OutboxMessage.purpose == MessagePurpose.MESSAGE) == 0
    sign_in_as(client, world.patient_x.user)
    page = text_of(client.get(f"/me/messages/{conversation.id}"))
    assert "Your team called you about this." in page and "Avtalt ny tid." not in page


# -- withdrawing --------------------------------------------------------------------------------

def test_a_message_can_be_withdrawn_within_five_minutes_while_unread(
        client: Client, world: World, kari_team: CareTeam) -> None:
    message = write(world.patient_x)
    sign_in_as(client, world.patient_x.user)
    url = f"/me/messages/{message.conversation_id}"
    assert "Withdraw this message" in client.get(url).text
    client.submit(f"{url}/messages/{message.id}/withdraw", page=url)
    db.session.refresh(message)
    assert message.withdrawn_at is not None
    assert message.body  # kept for the record, shown as withdrawn
    assert message.conversation.waiting_since is None  # nothing waits any more
    assert "Withdrawn by the writer." in text_of(client.get(url))


def test_too_late_or_read_cannot_be_withdrawn(world: World, kari_team: CareTeam) -> None:
    late = write(world.patient_x, key="late")
    late.created_at = utcnow() - timedelta(minutes=6)
    db.session.commit()
    with pytest.raises(conversations.MessageError, match="too_late"):
        conversations.withdraw(late, world.patient_x.user)
    read = write(world.patient_x, key="read")
    conversations.mark_read_by_team(read.conversation, world.coordinator_a)
    db.session.refresh(read)
    with pytest.raises(conversations.MessageError, match="too_late"):
        conversations.withdraw(read, world.patient_x.user)
    other = write(world.patient_x, key="other")
    with pytest.raises(conversations.MessageError):
        conversations.withdraw(other, world.coordinator_a)  # only its author


def test_a_staff_answer_withdrawn_in_time_is_never_sent(
        world: World, kari_team: CareTeam, sms: CapturingSms) -> None:
    conversation = write(world.patient_x).conversation
    answer = conversations.answer(conversation, world.coordinator_a, "Feil pasient, beklager.")
    conversations.withdraw(answer, world.coordinator_a)
    before = len(sms.sent)
    deliver_now(OutboxMessage.purpose == MessagePurpose.MESSAGE)
    notice = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.MESSAGE)).one()
    assert notice.status is MessageStatus.CANCELLED and len(sms.sent) == before
    db.session.refresh(conversation)
    assert conversation.waiting_since is not None  # the patient's message waits again


# -- SMS patients and letter patients ------------------------------------------------------------

def sms_patient(make: Factory, world: World) -> PatientProfile:
    patient = make.patient(world.clinic_a, "Siri SMS", channels=(Channel.SMS,), language="en")
    return patient


@pytest.mark.parametrize("length, carried", [(60, True), (400, True), (480, False),
                                             (1500, False)])
def test_an_answer_to_an_sms_patient_is_the_text_itself_within_three_segments(
        world: World, make: Factory, sms: CapturingSms, length: int, carried: bool) -> None:
    from server.services import sms_inbound

    patient = sms_patient(make, world)
    sms_inbound.receive("SM" + "a" * 32, patient.user.phone or "", "Når er neste time min?")
    [conversation] = conversations.for_patient(patient)
    words = ("Hei. Timen din er flyttet. " * 100)[:length].strip()
    conversations.answer(conversation, world.coordinator_a, words)
    deliver_now(OutboxMessage.purpose == MessagePurpose.MESSAGE)
    # The receipt for the patient's question and the answer go out in the same run, in
    # the order they are due; the answer is the one that is not the receipt.
    [body] = [m.body for m in sms.sent if "has gone to your team" not in m.body]
    assert conversations.sms_segments(body) <= conversations.SMS_MAX_SEGMENTS
    assert (words in body) is carried
    if not carried:
        assert "too long for an SMS" in body and "22 00 00 00" in body
    answer = conversation.messages[-1]
    db.session.refresh(answer)
    assert (answer.read_at is not None) is carried  # the text is on their phone


def test_segments_count_gsm_and_unicode_the_way_phones_do() -> None:
    assert conversations.sms_segments("a" * 160) == 1
    assert conversations.sms_segments("a" * 161) == 2
    assert conversations.sms_segments("æøå" * 53 + "a") == 1  # Norwegian letters are GSM
    assert conversations.sms_segments("{" * 80) == 1 and conversations.sms_segments("{" * 81) == 2
    assert conversations.sms_segments("🙂" * 35) == 1  # 70 UTF-16 units
    assert conversations.sms_segments("a" * 69 + "🙂") == 2
    assert conversations.sms_segments("a" * 459) == 3 and conversations.sms_segments("a" * 460) == 4


def test_a_letter_patient_gets_the_answer_as_a_letter(world: World, make: Factory) -> None:
    from server.notify.letter import render_letters_pdf
    from tests.test_letters import pages

    patient = make.patient(world.clinic_a, "Lars Brev", channels=(Channel.LETTER,))
    conversation = write(patient).conversation
    conversations.answer(conversation, world.coordinator_a, "Vi ringer deg mandag klokka ti.")
    deliver_now(OutboxMessage.purpose == MessagePurpose.MESSAGE)
    letter = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.MESSAGE)).one()
    assert letter.status is MessageStatus.LETTER_QUEUED
    text = " ".join(" ".join(pages(render_letters_pdf([letter]))).split())
    assert "Vi ringer deg mandag klokka ti." in text
    assert not FORBIDDEN.search(text)


# -- notifications ------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["nb", "nn", "en"])
def test_notification_texts_never_name_the_treatment(
        app: Flask, world: World, kari_team: CareTeam, language: str) -> None:
    conversation = write(world.patient_x).conversation
    answer = conversations.answer(conversation, world.coordinator_a, "Hei!")
    params = {"message_id": answer.id, "conversation_id": conversation.id}
    found = [texts.render("message", "push", params, language).body,
             texts.render("message", "sms", {**params, "as_text": False}, language).body,
             texts.render("message", "sms", {**params, "as_text": True}, language).body,
             texts.render("staff_message", "email", {}, language, keep_lines=True).body]
    for hint in ("", "reminder", "feedback_unclear", "feedback_closed", "no_appointment"):
        found.append(texts.render("reply_passed_on", "sms",
                                  {"on_day": oslo_today().isoformat(), "hint": hint},
                                  language).body)
    for text in found:
        assert not FORBIDDEN.search(text), text
        assert world.patient_x.display_name not in text
        assert conversations.sms_segments(text) <= 2, text


def test_the_staff_email_has_no_name_or_text_and_comes_once_per_wait(
        world: World, kari_team: CareTeam, emails: CapturingEmail) -> None:
    world.coordinator_a.notify_messages_by_email = True
    db.session.commit()
    conversation = write(world.patient_x, body="Hodepine etter ny dose").conversation
    conversations.write(conversation, world.patient_x, "Og svimmel.", "k2")
    deliver_now(OutboxMessage.purpose == MessagePurpose.STAFF_MESSAGE)
    assert len(emails.sent) == 1
    to, subject, body = emails.sent[0]
    assert to == world.coordinator_a.email and subject == "Ny melding i Følge til klinikken din"
    for secret in ("Xena", "Hodepine", "svimmel", "dose"):
        assert secret not in subject + body
    conversations.answer(conversation, world.coordinator_a, "Ring oss.")
    conversations.write(conversation, world.patient_x, "Ok, jeg ringer.", "k3")
    deliver_now(OutboxMessage.purpose == MessagePurpose.STAFF_MESSAGE)
    assert len(emails.sent) == 2  # a new wait, a new email


def test_no_email_unless_asked_for(world: World, kari_team: CareTeam,
                                   emails: CapturingEmail) -> None:
    write(world.patient_x)
    deliver_now()
    assert emails.sent == []


def test_staff_turn_the_email_on_themselves(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    client.submit("/staff/messages/settings", {"notify": "y"})
    db.session.refresh(world.doctor_a)
    assert world.doctor_a.notify_messages_by_email is True


# -- the inbox -----------------------------------------------------------------------------------

def test_inbox_filters_assignment_and_reassignment(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    mine = write(world.patient_x, body="Om timen", key="a").conversation
    other = write(world.patient_y, body="Om penger", key="b", topic=Topic.PRACTICAL).conversation
    assert other.assigned_to_id is None  # Yngve has no coordinator: the clinic's inbox
    sign_in_as(client, world.coordinator_a)
    page = text_of(client.get("/staff/messages/"))
    assert "Xena Pasient" in page and "Yngve Pasient" in page  # both wait for an answer
    page = text_of(client.get("/staff/messages/?show=mine"))
    assert "Xena Pasient" in page and "Yngve Pasient" not in page
    page = text_of(client.get("/staff/messages/?show=all&topic=practical"))
    assert "Yngve Pasient" in page and "Xena Pasient" not in page
    page = text_of(client.get("/staff/messages/?show=my_patients"))
    assert "Xena Pasient" in page and "Yngve Pasient" not in page
    # A value no page offers falls back to the default view instead of failing.
    assert client.get("/staff/messages/?show=%00&topic=x").status_code == 200
    url = f"/staff/messages/{mine.id}"
    client.submit(f"{url}/assign", {"assignee": str(world.doctor_a.id)}, page=url)
    db.session.refresh(mine)
    assert mine.assigned_to_id == world.doctor_a.id
    outsider = make.staff(world.clinic_b, StaffRole.DOCTOR)
    response = client.submit(f"{url}/assign", {"assignee": str(outsider.id)}, page=url)
    assert "Choose one of the options shown." in response.text
    db.session.refresh(mine)
    assert mine.assigned_to_id == world.doctor_a.id


def test_quick_answers_are_put_into_the_text_and_keep_what_was_typed(
        client: Client, world: World, kari_team: CareTeam) -> None:
    quick = conversations.add_quick_answer(world.clinic_a.id, "Ringer",
                                           "Vi ringer deg i løpet av dagen.", world.doctor_a)
    conversation = write(world.patient_x).conversation
    sign_in_as(client, world.coordinator_a)
    url = f"/staff/messages/{conversation.id}"
    response = client.submit(f"{url}/answer", {"action": "use", "quick": str(quick.id),
                                               "body": "Hei Xena."}, page=url)
    assert response.status_code == 200
    assert "Hei Xena.\n\nVi ringer deg i løpet av dagen." in text_of(response)
    assert count(ConversationMessage) == 1  # nothing sent yet


def test_overdue_conversations_reach_the_worklist_and_the_staff_home(
        client: Client, world: World, kari_team: CareTeam) -> None:
    world.clinic_a.answers_within_days = 1
    db.session.commit()
    conversation = write(world.patient_x).conversation
    fresh = write(world.patient_y, key="fresh").conversation
    db.session.execute(update(Conversation).where(Conversation.id == conversation.id)
                       .values(waiting_since=utcnow() - timedelta(days=6)))
    db.session.commit()
    assert [c.id for c in conversations.overdue([world.clinic_a.id])] == [conversation.id]
    sign_in_as(client, world.coordinator_a)
    worklist = text_of(client.get("/staff/worklist"))
    assert "Messages waiting too long" in worklist
    assert "Xena Pasient: a message has waited since" in worklist
    assert "Yngve Pasient: a message" not in worklist
    home = text_of(client.get("/staff/"))
    assert "2</span> messages wait for an answer" in home
    assert "1 has waited too long" in home
    overdue = text_of(client.get("/staff/messages/?show=overdue"))
    assert "Xena Pasient" in overdue and "Yngve Pasient" not in overdue
    assert fresh.waiting_since is not None


def test_opening_a_conversation_and_the_inbox_write_the_access_log(
        client: Client, world: World, kari_team: CareTeam) -> None:
    conversation = write(world.patient_x).conversation
    sign_in_as(client, world.doctor_a)
    client.get("/staff/messages/?show=all")
    client.get(f"/staff/messages/{conversation.id}")
    entries = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.patient_id == world.patient_x.id,
        AccessLogEntry.target == AccessTarget.CONVERSATION)).all()
    assert len(entries) == 2 and {e.viewer_user_id for e in entries} == {world.doctor_a.id}
    sign_in_as(client, world.patient_x.user)
    assert "your messages with your care team" in text_of(client.get("/me/who-has-seen"))


# -- who may see what ----------------------------------------------------------------------------

PATIENT_PAGES = [("GET", "/me/messages/{c}"), ("POST", "/me/messages/{c}"),
                 ("POST", "/me/messages/{c}/close"),
                 ("POST", "/me/messages/{c}/messages/{m}/withdraw")]
STAFF_PAGES = [("GET", "/staff/messages/{c}"), ("POST", "/staff/messages/{c}/answer"),
               ("POST", "/staff/messages/{c}/called"), ("POST", "/staff/messages/{c}/assign"),
               ("POST", "/staff/messages/{c}/close"),
               ("POST", "/staff/messages/{c}/messages/{m}/withdraw")]


def hit(client: Client, method: str, url: str) -> int:
    if method == "GET":
        return int(client.get(url).status_code)
    token = client.csrf_token("/")
    return int(client.post(url, data={"csrf_token": token, "body": "x", "client_key": "z"},
                           headers={"X-CSRFToken": token}).status_code)


def test_policy_matrix_for_every_conversation_page(
        world: World, kari_team: CareTeam, new_client: Any, make: Factory) -> None:
    message = write(world.patient_x)
    urls = {"c": message.conversation_id, "m": message.id}
    own, other_patient, relative, staff_a, staff_b = (new_client() for _ in range(5))
    sign_in_as(own, world.patient_x.user)
    sign_in_as(other_patient, world.patient_y.user)
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=relatives.SCOPES))
    relatives.accept(invitation, world.relative)
    sign_in_as(relative, world.relative)
    sign_in_as(staff_a, world.doctor_a)
    sign_in_as(staff_b, world.nurse_b)
    for method, pattern in PATIENT_PAGES:
        url = pattern.format(**urls)
        assert hit(other_patient, method, url) == 404, url
        assert hit(relative, method, url) == 404, url
        assert hit(staff_a, method, url) == 404, url
    for method, pattern in STAFF_PAGES:
        url = pattern.format(**urls)
        assert hit(own, method, url) == 404, url
        assert hit(relative, method, url) == 404, url
        assert hit(staff_b, method, url) == 404, url
    for url in ("/me/messages/", "/me/messages/new"):
        assert relative.get(url).status_code == 404
        assert staff_a.get(url).status_code == 404
    for url in ("/staff/messages/", "/staff/messages/settings",
                f"/staff/messages/quick-answers/{world.clinic_a.id}"):
        assert own.get(url).status_code == 404 and relative.get(url).status_code == 404
    assert staff_b.get(f"/staff/messages/quick-answers/{world.clinic_a.id}").status_code == 404
    assert staff_a.get(f"/staff/messages/quick-answers/{world.clinic_a.id}").status_code == 403
    assert own.get(f"/me/messages/{urls['c']}").status_code == 200
    assert staff_a.get(f"/staff/messages/{urls['c']}").status_code == 200
    # The other clinic's inbox and the relative's pages never show the conversation.
    assert "Xena" not in staff_b.get("/staff/messages/?show=all").text
    assert "Kan jeg flytte timen" not in relative.get(
        f"/relative/patients/{world.patient_x.id}").text


def test_after_a_move_the_new_clinic_has_the_conversation_and_the_old_one_gets_404(
        client: Client, world: World, kari_team: CareTeam, make: Factory,
        new_client: Any) -> None:
    conversation = write(world.patient_x).conversation
    doctor_b = make.staff(world.clinic_b, StaffRole.DOCTOR, name="Lege B")
    coordinator_b = make.staff(world.clinic_b, StaffRole.COORDINATOR, name="Koord B")
    moving = transfers.propose(world.patient_x, transfers.ProposalInput(
        world.clinic_b.id, oslo_today(), ConsentMethod.IN_PERSON, oslo_today()), world.doctor_a)
    transfers.accept(moving, doctor_b, doctor_b.id, coordinator_b.id)
    db.session.refresh(conversation)
    assert conversation.assigned_to_id == coordinator_b.id
    old, new = new_client(), new_client()
    sign_in_as(old, world.coordinator_a)
    sign_in_as(new, coordinator_b)
    assert old.get(f"/staff/messages/{conversation.id}").status_code == 404
    assert "Xena" not in old.get("/staff/messages/?show=all").text
    assert new.get(f"/staff/messages/{conversation.id}").status_code == 200
    assert "Xena Pasient" in new.get("/staff/messages/?show=mine").text


# -- relatives' observations --------------------------------------------------------------------

def test_a_relative_sees_when_the_team_read_and_answered_and_the_patient_reads_it_too(
        client: Client, world: World, new_client: Any) -> None:
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=relatives.SCOPES))
    access = relatives.accept(invitation, world.relative)
    observation = relatives.observe(access, ObservationKind.WORRY, "Hun sover lite.")
    relative, staff, patient = new_client(), new_client(), new_client()
    sign_in_as(relative, world.relative)
    sign_in_as(staff, world.doctor_a)
    sign_in_as(patient, world.patient_x.user)
    url = f"/relative/patients/{world.patient_x.id}/observations"
    assert "Not read by the team yet" in text_of(relative.get(url))
    staff_page = f"/staff/patients/{world.patient_x.id}/relatives"
    assert "the relative and the patient can read it" in text_of(staff.get(staff_page))
    assert "Read by the team" in text_of(relative.get(url))
    staff.submit(f"/staff/observations/{observation.id}/answer",
                 {"answer": "Takk, vi tar det opp på neste time."}, page=staff_page)
    shown = text_of(relative.get(url))
    assert "Takk, vi tar det opp på neste time." in shown
    assert "Xena Pasient can read this answer too." in shown
    assert "Takk, vi tar det opp på neste time." in text_of(patient.get("/me/relatives/"))
    # Staff of another clinic cannot answer it.
    outsider = new_client()
    sign_in_as(outsider, world.nurse_b)
    response = outsider.submit(f"/staff/observations/{observation.id}/answer",
                               {"answer": "Nei"}, page="/staff/")
    assert response.status_code == 404


@pytest.mark.parametrize("answer_days", [0, 1, 2, 5])
def test_the_overdue_cutoff_agrees_with_the_answer_day_for_every_arrival_and_day(
        world: World, answer_days: int) -> None:
    """overdue_cutoff (a comparison the database makes) says the same as answer_by for
    messages arriving at any hour of five weeks, seen on every day of those weeks."""
    from datetime import UTC, datetime

    clinic = world.clinic_a
    clinic.answers_within_days = answer_days
    start = datetime(2026, 12, 14, 0, 30, tzinfo=UTC)  # covers Christmas weekends, too
    for seen_day in range(35):
        now = start + timedelta(days=seen_day, hours=11)
        cutoff = conversations.overdue_cutoff(clinic, now)
        today = now.astimezone(conversations.OSLO).date()
        for hours in range(0, seen_day * 24, 5):
            arrived = start + timedelta(hours=hours)
            late = today > conversations.answer_by(clinic, arrived)
            assert (arrived < cutoff) is late, (answer_days, arrived, now)
