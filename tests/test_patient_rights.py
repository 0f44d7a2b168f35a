"""Issue 13, rights and trust: the privacy notice and accessibility statement, "Download my
information" read back from its PDF and JSON, stopping using Følge; and the words: the
sign-in code's WebOTP line, the invitation SMS, complaint steps, destructive actions in
two steps."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    Passkey,
    PatientAnswer,
    PushSubscription,
    UserSession,
    WorkItem,
    WorkKind,
)
from server.services import appointments, relatives, reminder_settings, take_home
from tests.conftest import CapturingSms, Client, Factory, World, sign_in_as


def test_privacy_and_accessibility_are_public_and_linked_from_every_page(
        client: Client, world: World) -> None:
    sign_in = client.get("/sign-in").text
    assert 'href="/privacy"' in sign_in and 'href="/accessibility"' in sign_in
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    assert "Data controller" in privacy.text and "The health trust that runs your clinic." in \
        privacy.text
    assert "datatilsynet.no" in privacy.text
    statement = client.get("/accessibility").text
    for heading in ("Status", "What does not work well yet", "Tell us about a problem",
                    "Oversight"):
        assert f"<h2>{heading}</h2>" in statement
    assert "uutilsynet.no" in statement
    # Signed in, the notice names the health trust of the patient's clinic.
    sign_in_as(client, world.patient_x.user)
    assert "Helse Test HF" in client.get("/privacy").text
    assert 'href="/accessibility"' in client.get("/me/").text


def _download(client: Client, kind: str) -> bytes:
    response = client.submit(f"/me/my-information/{kind}", page="/me/my-information")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    return bytes(response.data)


def _everything(world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3),
                                   service_name="Legekontoret på Torget")
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Jeg er bortreist.")
    take_home.decide(make.take_home(world.patient_x), take_home.DecisionInput(
        take_home.Outcome.DECLINE, "For kort tid siden oppstart."), world.doctor_a)
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=relatives.SCOPES))
    relatives.accept(invitation, world.relative)
    from server.messages import conversations

    written = conversations.start(world.patient_x, "Kan jeg flytte timen?", None, "mi-1")
    conversations.answer(written.conversation, world.coordinator_a, "Ja, ring oss.")


def test_download_my_information_as_json_has_everything_and_no_secrets(
        client: Client, new_client: object, world: World, make: Factory) -> None:
    _everything(world, make)
    staff = new_client()  # type: ignore[operator]
    sign_in_as(staff, world.doctor_a)
    staff.get(f"/staff/patients/{world.patient_x.id}")  # a read, for the access log
    sign_in_as(client, world.patient_x.user)
    data = json.loads(_download(client, "json"))
    assert data["patient"]["name"] == "Xena Pasient"
    assert [a["answer"] for a in data["appointments"]] == ["cannot_come"]
    assert data["appointments"][0]["answer_reason"] == "Jeg er bortreist."
    assert data["take_home_requests"][0]["decision_reason"] == "For kort tid siden oppstart."
    assert data["names"][str(data["take_home_requests"][0]["decided_by_id"])] == "Doktor A"
    assert [a["name"] for a in data["relative_accesses"]] == ["Rita"]
    assert [m["body"] for m in data["messages"]] == ["Kan jeg flytte timen?", "Ja, ring oss."]
    assert any(e["viewer_user_id"] == world.doctor_a.id for e in data["access_log"])
    text = json.dumps(data)
    assert "token_hash" not in text and "code_hash" not in text and "client_key" not in text


def test_download_my_information_as_pdf_reads_back_and_is_logged(
        client: Client, world: World, make: Factory) -> None:
    _everything(world, make)
    sign_in_as(client, world.patient_x.user)
    pdf = _download(client, "pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Alt Følge har om deg" in text  # in the patient's language (Bokmål by default)
    assert "Xena Pasient, 900 00 003" in text
    assert "Legekontoret på Torget" in text and "Jeg er bortreist." in text
    assert "For kort tid siden oppstart." in text and "Doktor A" in text
    assert "Rita (søster)" in text
    assert "Kan jeg flytte timen?" in text
    logged = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.patient_id == world.patient_x.id,
        AccessLogEntry.target == AccessTarget.EXPORT)).all()
    assert len(logged) == 1 and logged[0].viewer_user_id == world.patient_x.user_id
    assert "You downloaded all your information at" in client.get("/me/who-has-seen").text


def test_download_needs_the_form_token_and_the_patient(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.post("/me/my-information/pdf")  # no CSRF token
    assert response.status_code in (302, 400)
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.target == AccessTarget.EXPORT)) == 0
    sign_in_as(client, world.relative)
    assert client.get("/me/my-information").status_code == 404


def test_stop_using_ends_sessions_passkeys_and_push_and_tells_the_clinic(
        client: Client, new_client: object, world: World, make: Factory) -> None:
    user = world.patient_x.user
    world.patient_x.contact_channels = ["push", "sms"]
    db.session.add(Passkey(user_id=user.id, credential_id=b"cred-1", public_key=b"key",
                           sign_count=0, name="Mobilen"))
    db.session.add(PushSubscription(user_id=user.id, endpoint="https://fcm.googleapis.com/x",
                                    p256dh="p", auth="a"))
    db.session.commit()
    other_phone = new_client()  # type: ignore[operator]
    sign_in_as(other_phone, user)
    sign_in_as(client, user)
    page = client.get("/me/stop").text
    assert "Your treatment goes on as before" in page and "What is kept" in page
    response = client.submit("/me/stop")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(Passkey).where(
        Passkey.user_id == user.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(PushSubscription).where(
        PushSubscription.user_id == user.id)) == 0
    db.session.refresh(world.patient_x)
    assert world.patient_x.contact_channels == ["sms"]
    item = db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.STOPPED_USING)).one()
    assert item.patient_id == world.patient_x.id
    assert item.details == {"passkeys": 1, "phones": 1}
    assert other_phone.get("/me/").status_code == 302  # signed out there too
    staff = new_client()  # type: ignore[operator]
    sign_in_as(staff, world.doctor_a)
    assert "The patient stopped using Følge." in staff.get("/staff/worklist").text


def test_settings_do_not_bring_back_reminders_after_cannot_come(
        world: World, make: Factory) -> None:
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, "Syk.")
    saved = reminder_settings.current(world.patient_x)
    reminder_settings.save(world.patient_x, reminder_settings.Choices(
        channels=["sms"], evening_before_at=saved.evening_before_at,
        hours_before=saved.hours_before, quiet_from=saved.quiet_from,
        quiet_until=saved.quiet_until))
    waiting = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id,
        OutboxMessage.purpose == MessagePurpose.REMINDER,
        OutboxMessage.status == MessageStatus.PENDING)).all()
    assert waiting == []


def test_the_sign_in_code_ends_with_the_webotp_line(
        client: Client, world: World, sms: CapturingSms) -> None:
    client.submit("/sign-in", {"phone": world.patient_x.user.phone or ""})
    body = sms.sent[-1].body
    code = sms.last_code()
    assert body.splitlines()[-1] == f"@localhost #{code}"
    page = client.get("/sign-in/code").text
    assert 'autocomplete="one-time-code"' in page


def test_sign_in_puts_sms_first_and_keeps_the_passkey_cards_place(client: Client) -> None:
    page = client.get("/sign-in").text
    assert page.index("With a code by SMS") < page.index("With fingerprint or face")
    assert 'class="card passkey-card"' in page


def test_the_invitation_sms_names_who_invites_and_says_nothing_about_treatment(
        world: World, sms: CapturingSms) -> None:
    relatives.invite(world.patient_x, relatives.InviteInput("Rita", "søster",
                                                            phone="+4790000001"))
    to, body = sms.sent[-1].to, sms.sent[-1].body
    assert to == "+4790000001"
    assert body.startswith("Xena har invitert deg til Følge, en app der Xena kan dele")
    for word in ("behandling", "LAR", "klinikk", "rus", "medisin"):
        assert word.lower() not in body.lower()


def test_complaint_steps_in_full_on_refusal_and_folded_on_approval(
        client: Client, world: World, make: Factory) -> None:
    refused = take_home.decide(make.take_home(world.patient_x), take_home.DecisionInput(
        take_home.Outcome.DECLINE, "For tidlig."), world.doctor_a)
    approved = take_home.decide(make.take_home(world.patient_x, starts_in_days=60),
                                take_home.DecisionInput(take_home.Outcome.APPROVE, "Stabil."),
                                world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    page = client.get(f"/me/take-home/{refused.id}").text
    assert "<h3>Your right to complain</h3>" in page
    assert "https://www.pasientogbrukerombudet.no/" in page and 'href="tel:40501600"' in page
    assert "https://www.statsforvalteren.no/" in page
    assert "The answer: Not approved" in page
    folded = client.get(f"/me/take-home/{approved.id}").text
    assert "<summary>Your right to complain</summary>" in folded
    assert "The answer: Approved" in folded
    # Withdrawing is two steps, apart from the rest.
    waiting = make.take_home(world.patient_x, starts_in_days=90)
    page = client.get(f"/me/take-home/{waiting.id}").text
    assert re.search(r'<summary class="button-danger-outline">Withdraw the request', page)
    assert 'class="button-danger">Yes, withdraw it' in page


def test_words_agree_with_what_the_form_does(client: Client, world: World,
                                             new_client: object, make: Factory) -> None:
    sign_in_as(client, world.patient_x.user)
    form = client.get("/me/take-home/new").text
    assert "Which pharmacy, or which town" in form and "(optional)</label>" not in \
        form.split("Which pharmacy")[1][:80]
    nb = new_client("nb")  # type: ignore[operator]
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=relatives.SCOPES))
    relatives.accept(invitation, world.relative)
    sign_in_as(nb, world.patient_x.user)
    listing = nb.get("/me/relatives/").text
    assert ">Endre<" in listing and ">Endring<" not in listing
    relative = new_client()  # type: ignore[operator]
    sign_in_as(relative, world.relative)
    observe = relative.get(f"/relative/patients/{world.patient_x.id}/observations").text
    assert 'href="tel:113"' in observe
