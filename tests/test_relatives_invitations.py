"""Relatives (pårørende): inviting, accepting, reminder copies, outreach, staff registration,
agreements and observations.

The scope matrix, revocation, end dates and the access log are in test_relatives.py.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from server import policy
from server.extensions import db
from server.labels import RELATIVE_SCOPES
from server.models import (
    Attendance,
    Channel,
    ConsentMethod,
    InviteStatus,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    RelativeAccess,
    RelativeAgreement,
    RelativeInvitation,
    RelativeObservation,
    Role,
    StaffRole,
    User,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.notify import texts
from server.services import appointments, relatives
from server.services.local_time import oslo_today
from tests.conftest import CapturingSms, Client, Factory, World, deliver_now, sign_in_as
from tests.test_notifications import FORBIDDEN

INVITE = "/me/relatives/invite"
#: A number nobody in the world fixture has.
NEW_NUMBER, NEW_E164 = "912 34 567", "+4791234567"


# --- helpers -------------------------------------------------------------------------------

@dataclass
class CapturingEmail:
    """Test email provider: keeps what would have been sent."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


@pytest.fixture
def emails(app: Flask) -> CapturingEmail:
    box = CapturingEmail()
    app.extensions["folge_email"] = box
    return box


@pytest.fixture(autouse=True)
def daytime(monkeypatch: pytest.MonkeyPatch) -> None:
    """No quiet hours for the worker, whatever the real clock says."""
    import server.notify.worker as worker_module

    monkeypatch.setattr(worker_module, "in_quiet_hours", lambda *args: False)


def page(response: Any) -> str:
    """The page's text with HTML entities undone, to find messages with apostrophes."""
    return html.unescape(response.text)


def token_in(body: str) -> str:
    found = re.search(r"/invite/([A-Za-z0-9_-]+)", body)
    assert found, f"no invitation link in {body!r}"
    return found.group(1)


def checked_boxes(text: str) -> list[str]:
    """Values of the checked checkboxes on a page."""
    boxes = [tag for tag in re.findall(r"<input[^>]*>", text) if 'type="checkbox"' in tag]
    return [re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
            for tag in boxes if re.search(r"\bchecked\b", tag)]


def all_invitations() -> list[RelativeInvitation]:
    return list(db.session.scalars(select(RelativeInvitation)))


def outbox_of(purpose: MessagePurpose) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose)
                                   .order_by(OutboxMessage.id)))


def local(phone: str) -> str:
    """A +47 number as a person would type it."""
    return phone.removeprefix("+47")


def invite_data(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Mona Mor", "relationship": "mother", "phone": NEW_NUMBER,
                            "email": "", "ends_on": ""}
    data.update(fields)
    return data


def invite_through_page(client: Client, **fields: Any) -> Any:
    return client.submit(INVITE, invite_data(**fields), follow_redirects=True)


def invited(client: Client, patient: PatientProfile, sms: CapturingSms,
            **fields: Any) -> tuple[RelativeInvitation, str]:
    """The patient (signed in in ``client``) invites by SMS; returns the invitation and token."""
    sign_in_as(client, patient.user)
    response = invite_through_page(client, **fields)
    assert "The invitation is sent." in response.text
    invitation = db.session.scalars(select(RelativeInvitation).order_by(
        RelativeInvitation.id.desc())).first()
    assert invitation is not None
    return invitation, token_in(sms.sent[-1].body)


def give_access(patient: PatientProfile, relative: User, scopes: list[str],
                name: str = "Rita Pårørende", relationship: str = "sister") -> RelativeAccess:
    access = RelativeAccess(patient_id=patient.id, relative_user_id=relative.id, name=name,
                            relationship_text=relationship, scopes=scopes, starts_at=utcnow())
    db.session.add(access)
    db.session.commit()
    return access


def sms_to(sms: CapturingSms, phone: str | None) -> list[str]:
    return [m.body for m in sms.sent if m.to == phone]


def assert_discreet(text: str, *names: str) -> None:
    assert not FORBIDDEN.search(text), text
    for name in names:
        assert name not in text, f"{name!r} in {text!r}"


# --- inviting ------------------------------------------------------------------------------

def test_invitation_by_sms_has_only_a_link(client: Client, world: World,
                                           sms: CapturingSms) -> None:
    invitation, token = invited(client, world.patient_x, sms, scopes=["appointments"])
    assert [m.to for m in sms.sent] == [NEW_E164]
    body = sms.sent[0].body
    assert f"/invite/{token}" in body
    # Who invites, by first name only (so it does not read like a scam), and nothing else
    # about the patient: no surname, clinic or treatment.
    assert body.startswith("Xena har invitert deg til Følge")
    assert_discreet(body, "Pasient", "Klinikk", world.clinic_a.name, "Mona", "mother")
    assert invitation.phone == NEW_E164 and invitation.email is None
    assert invitation.status is InviteStatus.PENDING
    assert invitation.scopes == ["appointments"]
    # The patient sees the invitation waiting, with a way to cancel it.
    listing = client.get("/me/relatives/").text
    assert "Mona Mor" in listing and "Cancel the invitation" in listing


def test_invitation_by_email_has_only_a_link(client: Client, world: World, sms: CapturingSms,
                                             emails: CapturingEmail) -> None:
    sign_in_as(client, world.patient_x.user)
    response = invite_through_page(client, phone="", email="mona@example.no")
    assert "The invitation is sent." in response.text
    assert sms.sent == []
    [(to, subject, body)] = emails.sent
    assert to == "mona@example.no"
    token = token_in(body)
    assert client.get(f"/invite/{token}").status_code == 200
    for text in (subject, body):
        assert_discreet(text, "Pasient", "Klinikk", "Mona", "mother")
    invitation = all_invitations()[0]
    assert invitation.email == "mona@example.no" and invitation.phone is None


def test_the_token_is_stored_only_as_its_hash(client: Client, world: World,
                                              sms: CapturingSms) -> None:
    invitation, token = invited(client, world.patient_x, sms)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert invitation.token_hash != token
    for column in RelativeInvitation.__table__.columns:
        assert token not in str(getattr(invitation, column.key)), column.key
    assert relatives.invitation_for(token) == invitation
    assert relatives.invitation_for(invitation.token_hash) is None  # the hash is no key


def test_no_scope_is_chosen_by_default(client: Client, world: World, sms: CapturingSms) -> None:
    sign_in_as(client, world.patient_x.user)
    form = client.get(INVITE).text
    assert form.count('type="checkbox"') == len(RELATIVE_SCOPES)
    assert checked_boxes(form) == []
    invite_through_page(client)
    assert all_invitations()[0].scopes == []


BAD_INPUT = {
    "own number": ({"phone": "OWN"}, "This is your own number"),
    "no contact": ({"phone": "", "email": ""}, "Write a mobile number or an email address."),
    "bad email": ({"phone": "", "email": "mona@example"}, "Write a whole email address"),
    "bad number": ({"phone": "12"}, None),
    "ended": ({"ends_on": "YESTERDAY"}, "The end date has passed."),
    "no name": ({"name": "  "}, "Write the person's name."),
    "no relationship": ({"relationship": ""}, "Write how the person is related to you"),
    "long name": ({"name": "M" * 121}, "Please keep it under 120 characters."),
    "long relationship": ({"relationship": "r" * 81}, "Please keep it under 80 characters."),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_clearly_and_kept(client: Client, world: World,
                                               sms: CapturingSms, emails: CapturingEmail,
                                               case: str) -> None:
    change, message = BAD_INPUT[case]
    fields = dict(change, scopes=["appointments", "observations"])
    if fields.get("phone") == "OWN":
        fields["phone"] = local(world.patient_x.user.phone or "")
    if fields.get("ends_on") == "YESTERDAY":
        fields["ends_on"] = (oslo_today() - timedelta(days=1)).isoformat()
    sign_in_as(client, world.patient_x.user)
    response = invite_through_page(client, **fields)
    assert response.status_code == 200
    text = page(response)
    assert "There is a problem" in text
    if message:
        assert message in text
    assert "The invitation is sent." not in text
    assert all_invitations() == []
    assert sms.sent == [] and emails.sent == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # What was typed is still there.
    for name, value in invite_data(**fields).items():
        if name != "scopes" and value.strip():
            assert f'value="{html.escape(value)}"' in response.text, name
    assert checked_boxes(response.text) == ["appointments", "observations"]


def test_the_sixth_invitation_in_a_day_is_refused(client: Client, world: World,
                                                  sms: CapturingSms,
                                                  new_client: Callable[..., Client]) -> None:
    for n in range(relatives.MAX_INVITATIONS_PER_DAY):
        relatives.invite(world.patient_x, relatives.InviteInput(
            name=f"Venn {n}", relationship="friend", phone=f"9800000{n}"))
    assert len(sms.sent) == 5
    sign_in_as(client, world.patient_x.user)
    response = invite_through_page(client, name="Nummer Seks")
    assert "You have sent many invitations today." in response.text
    assert 'value="Nummer Seks"' in response.text
    assert len(all_invitations()) == 5 and len(sms.sent) == 5
    # Another patient is not affected.
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    assert "The invitation is sent." in invite_through_page(other).text
    assert len(sms.sent) == 6
    # A day later the patient can invite again.
    for invitation in all_invitations():
        if invitation.patient_id == world.patient_x.id:
            invitation.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert "The invitation is sent." in invite_through_page(client, phone="98000009").text


# --- accepting -----------------------------------------------------------------------------

def test_a_new_relative_accepts_with_a_code(client: Client, world: World, sms: CapturingSms,
                                            new_client: Callable[..., Client]) -> None:
    ends_on = oslo_today() + timedelta(days=30)
    invitation, token = invited(client, world.patient_x, sms, scopes=["reminders", "appointments"],
                                ends_on=ends_on.isoformat())
    browser = new_client()
    shown = browser.get(f"/invite/{token}")
    assert shown.status_code == 200
    assert "You are invited to Følge" in shown.text
    assert_discreet(page(shown), "Xena", "Pasient", world.clinic_a.name, "Klinikk")
    response = browser.submit(f"/invite/{token}", {"phone": NEW_NUMBER})
    assert response.status_code == 302 and response.location.endswith(f"/invite/{token}/code")
    code = sms.last_code(NEW_E164)
    assert code not in sms.sent[0].body
    # Not yet signed in, not yet accepted.
    assert browser.get("/relative/").status_code == 302
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.PENDING
    response = browser.submit(f"/invite/{token}/code", {"code": code}, follow_redirects=True)
    assert response.status_code == 200
    assert "Xena Pasient" in response.text  # now they see who invited them
    user = db.session.scalar(select(User).where(User.phone == NEW_E164))
    assert user is not None and user.role is Role.RELATIVE
    assert user.phone_verified_at is not None and user.display_name == "Mona Mor"
    [access] = db.session.scalars(select(RelativeAccess)).all()
    assert (access.patient_id, access.relative_user_id) == (world.patient_x.id, user.id)
    assert access.scopes == ["appointments", "reminders"]  # exactly those, in the usual order
    assert access.ends_on == ends_on and access.revoked_at is None
    assert (access.name, access.relationship_text) == ("Mona Mor", "mother")
    invitation = db.session.get(RelativeInvitation, invitation.id)
    assert invitation.status is InviteStatus.ACCEPTED and invitation.accepted_at is not None
    assert browser.get(f"/relative/patients/{world.patient_x.id}/").status_code == 200


def test_a_used_link_says_so_and_can_tell_the_patient_once(
        client: Client, world: World, sms: CapturingSms,
        new_client: Callable[..., Client]) -> None:
    invitation, token = invited(client, world.patient_x, sms)
    relatives.accept(invitation, world.relative)
    browser = new_client()
    shown = browser.get(f"/invite/{token}")
    assert "The invitation has already been accepted." in shown.text
    assert "Tell the person who invited me" in shown.text
    assert 'name="phone"' not in shown.text
    assert_discreet(page(shown), "Xena", world.clinic_a.name)
    told = browser.submit(f"/invite/{token}/tell", page=f"/invite/{token}")
    assert "Thank you. We have told them." in told.text
    assert "Tell the person who invited me" not in told.text
    browser.submit(f"/invite/{token}/tell", page=f"/invite/{token}")
    [message] = outbox_of(MessagePurpose.INVITE_FAILED)
    assert message.patient_id == world.patient_x.id and message.recipient_user_id is None
    assert message.template == "invite_failed"
    # It reaches the patient, and does not say who tried.
    deliver_now()
    [body] = [b for b in sms_to(sms, world.patient_x.user.phone)]
    assert_discreet(body, "Mona", world.relative.display_name)


def test_expired_link(client: Client, world: World, sms: CapturingSms,
                      new_client: Callable[..., Client]) -> None:
    invitation, token = invited(client, world.patient_x, sms)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    browser = new_client()
    shown = browser.get(f"/invite/{token}")
    assert "The invitation was valid for 7 days, and that time has passed." in shown.text
    assert "Tell the person who invited me" in shown.text
    # Accepting is no longer possible, not even with a form posted directly.
    token_value = browser.csrf_token("/sign-in")
    response = browser.post(f"/invite/{token}", data={"csrf_token": token_value,
                                                      "phone": NEW_NUMBER})
    assert response.status_code == 302 and response.location.endswith(f"/invite/{token}")
    assert len(sms.sent) == 1
    assert db.session.scalars(select(RelativeAccess)).all() == []
    browser.submit(f"/invite/{token}/tell", page=f"/invite/{token}")
    assert len(outbox_of(MessagePurpose.INVITE_FAILED)) == 1


def test_cancelled_link(client: Client, world: World, sms: CapturingSms,
                        new_client: Callable[..., Client]) -> None:
    invitation, token = invited(client, world.patient_x, sms)
    # Another patient cannot cancel it.
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    assert other.submit(f"/me/relatives/invitations/{invitation.id}/cancel",
                        page="/me/relatives/").status_code == 404
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.PENDING
    response = client.submit(f"/me/relatives/invitations/{invitation.id}/cancel",
                             page="/me/relatives/", follow_redirects=True)
    assert "The invitation is cancelled. The link no longer works." in response.text
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.CANCELLED
    browser = new_client()
    shown = browser.get(f"/invite/{token}")
    assert "The invitation was withdrawn." in shown.text
    assert "Tell the person who invited me" in shown.text
    assert 'name="phone"' not in shown.text


def test_an_unknown_link(world: World, new_client: Callable[..., Client]) -> None:
    browser = new_client()
    shown = browser.get("/invite/not-a-real-token")
    assert shown.status_code == 200
    assert "We do not recognise this link" in shown.text
    assert "Tell the person who invited me" not in shown.text
    response = browser.submit("/invite/not-a-real-token/tell", page="/invite/not-a-real-token")
    assert "Thank you" not in response.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_accepting_with_another_number_is_refused(client: Client, world: World,
                                                  sms: CapturingSms,
                                                  new_client: Callable[..., Client]) -> None:
    invitation, token = invited(client, world.patient_x, sms)
    browser = new_client()
    response = browser.submit(f"/invite/{token}", {"phone": "987 65 432"})
    assert response.status_code == 200
    assert "Use the number the invitation was sent to." in response.text
    assert 'value="987 65 432"' in response.text
    assert len(sms.sent) == 1  # no code
    assert db.session.scalar(select(User).where(User.phone == "+4798765432")) is None
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.PENDING


def test_a_patients_number_cannot_accept_and_is_not_revealed_before_the_code(
        client: Client, world: World, sms: CapturingSms,
        new_client: Callable[..., Client]) -> None:
    patient_phone = world.patient_y.user.phone or ""
    invitation, token = invited(client, world.patient_x, sms, phone=local(patient_phone))
    browser = new_client()
    # Typing the number says nothing about whose number it is: a code goes out as for anyone.
    first = browser.submit(f"/invite/{token}", {"phone": local(patient_phone)})
    assert first.status_code == 302 and first.headers["Location"].endswith("/code")
    assert len(sms_to(sms, patient_phone)) == 2  # the invitation and the code
    code = sms.last_code(patient_phone)
    # Only the person holding the phone learns that it cannot be a relative account.
    response = browser.submit(f"/invite/{token}/code", {"code": code})
    assert "This number is already used for another kind of account in Følge." in response.text
    assert world.patient_y.user.role is Role.PATIENT
    assert db.session.scalars(select(RelativeAccess)).all() == []
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.PENDING


def test_typing_a_number_makes_no_account(client: Client, world: World, sms: CapturingSms,
                                          new_client: Callable[..., Client]) -> None:
    from server.models import User

    invitation, token = invited(client, world.patient_x, sms)
    users_before = db.session.scalar(select(func.count()).select_from(User))
    browser = new_client()
    browser.submit(f"/invite/{token}", {"phone": NEW_NUMBER})
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before


def test_a_signed_in_patient_cannot_accept(client: Client, world: World, sms: CapturingSms,
                                           new_client: Callable[..., Client]) -> None:
    invitation, token = invited(client, world.patient_x, sms)
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    assert "Sign out first" in other.get(f"/invite/{token}").text
    assert other.submit(f"/invite/{token}", {"phone": NEW_NUMBER}).status_code == 404
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.PENDING


def test_an_existing_relative_accepts_with_one_click(client: Client, world: World,
                                                     sms: CapturingSms,
                                                     new_client: Callable[..., Client]) -> None:
    give_access(world.patient_y, world.relative, ["appointments"])
    invitation, token = invited(client, world.patient_x, sms,
                                phone=local(world.relative.phone or ""), scopes=["observations"])
    browser = new_client()
    sign_in_as(browser, world.relative)
    shown = browser.get(f"/invite/{token}")
    assert "Accept the invitation" in shown.text and 'name="phone"' not in shown.text
    response = browser.submit(f"/invite/{token}", follow_redirects=True)
    assert response.status_code == 200
    assert "Xena Pasient" in response.text and "Yngve Pasient" in response.text
    assert len(sms.sent) == 1  # no code needed
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.ACCEPTED
    held = relatives.active_for_relative(world.relative)
    assert {a.patient_id: a.scopes for a in held} == {
        world.patient_y.id: ["appointments"], world.patient_x.id: ["observations"]}
    # Switching between them: each page shows its own person and scopes.
    for patient, link, other in ((world.patient_x, "observations", "appointments"),
                                 (world.patient_y, "appointments", "observations")):
        shown = browser.get(f"/relative/patients/{patient.id}/")
        assert shown.status_code == 200 and patient.display_name in shown.text
        assert f"/relative/patients/{patient.id}/{link}" in shown.text
        assert f"/relative/patients/{patient.id}/{other}" not in shown.text
    assert browser.get(f"/relative/patients/{world.patient_x.id}/observations").status_code == 200
    assert browser.get(f"/relative/patients/{world.patient_y.id}/appointments").status_code == 200
    assert browser.get(f"/relative/patients/{world.patient_x.id}/appointments").status_code == 404


def test_an_existing_relative_not_signed_in_accepts_with_a_code(
        client: Client, world: World, sms: CapturingSms,
        new_client: Callable[..., Client]) -> None:
    give_access(world.patient_y, world.relative, ["appointments"])
    invitation, token = invited(client, world.patient_x, sms,
                                phone=local(world.relative.phone or ""), scopes=["reminders"])
    users = db.session.scalar(select(func.count()).select_from(User))
    browser = new_client()
    browser.submit(f"/invite/{token}", {"phone": local(world.relative.phone or "")})
    response = browser.submit(f"/invite/{token}/code",
                              {"code": sms.last_code(world.relative.phone)},
                              follow_redirects=True)
    assert "Xena Pasient" in response.text and "Yngve Pasient" in response.text
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert {a.patient_id for a in relatives.active_for_relative(world.relative)} == {
        world.patient_x.id, world.patient_y.id}
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.ACCEPTED


def test_a_signed_in_relative_with_another_number_cannot_accept(
        client: Client, world: World, sms: CapturingSms,
        new_client: Callable[..., Client]) -> None:
    invitation, token = invited(client, world.patient_x, sms)  # sent to NEW_NUMBER
    browser = new_client()
    sign_in_as(browser, world.relative)
    response = browser.submit(f"/invite/{token}", follow_redirects=True)
    assert "Use the number the invitation was sent to." in response.text
    assert db.session.get(RelativeInvitation, invitation.id).status is InviteStatus.PENDING
    assert relatives.active_for_relative(world.relative) == []


# --- reminders to relatives ----------------------------------------------------------------

def reminders_of(appointment_id: int, relative: bool = False) -> list[OutboxMessage]:
    recipient = (OutboxMessage.recipient_user_id.is_not(None) if relative
                 else OutboxMessage.recipient_user_id.is_(None))
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment_id,
        OutboxMessage.purpose == MessagePurpose.REMINDER, recipient)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)))


def test_a_relative_with_the_reminders_scope_gets_a_copy(world: World, make: Factory,
                                                         sms: CapturingSms) -> None:
    give_access(world.patient_x, world.relative, ["reminders"])
    without = make.relative("Uten Påminnelse")
    give_access(world.patient_x, without, ["appointments", "observations", "no_show_contact"])
    appointment = make.appointment(world.patient_x)
    first = reminders_of(appointment.id)[0]
    deliver_now(OutboxMessage.id == first.id)
    db.session.refresh(first)
    assert first.status is MessageStatus.SENT
    [copy] = reminders_of(appointment.id, relative=True)
    assert copy.recipient_user_id == world.relative.id
    assert copy.patient_id == world.patient_x.id and copy.template == "reminder_relative"
    assert copy.params == first.params
    assert copy.status is MessageStatus.SENT and copy.sent_to == world.relative.phone
    # As discreet as the patient's (a day and a time), without "reply YES": replies come
    # from the patient.
    expected = texts.render("reminder_relative", "sms", first.params, None).body
    assert sms_to(sms, world.relative.phone) == [expected]
    patient_text = texts.render("reminder", "sms", first.params, None).body
    assert patient_text in sms_to(sms, world.patient_x.user.phone)
    assert "JA" not in expected
    assert_discreet(expected, "Xena", "Pasient", world.clinic_a.name, "Legekontoret")
    assert sms_to(sms, without.phone) == []
    # Delivering again makes no second copy.
    deliver_now()
    assert len(reminders_of(appointment.id, relative=True)) == len(
        [m for m in reminders_of(appointment.id) if m.status is MessageStatus.SENT])


def test_no_copy_after_revocation(world: World, make: Factory, sms: CapturingSms) -> None:
    access = give_access(world.patient_x, world.relative, ["reminders"])
    before = make.appointment(world.patient_x, starts_in=timedelta(days=2))
    after = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    deliver_now(OutboxMessage.id == reminders_of(before.id)[0].id)
    assert len(reminders_of(before.id, relative=True)) == 1
    relatives.revoke(access, "patient")
    reminder = reminders_of(after.id)[0]
    deliver_now(OutboxMessage.id == reminder.id)
    db.session.refresh(reminder)
    assert reminder.status is MessageStatus.SENT
    assert reminders_of(after.id, relative=True) == []
    to_relative = sms_to(sms, world.relative.phone)
    assert len(to_relative) == 2  # the first reminder, then that the access ended
    assert to_relative[1] == texts.render("access_ended", "sms", {}, None).body


def test_a_failed_copy_makes_no_work_item(world: World, make: Factory,
                                          sms: CapturingSms) -> None:
    world.relative.phone_verified_at = None  # no way to reach them
    db.session.commit()
    give_access(world.patient_x, world.relative, ["reminders"])
    appointment = make.appointment(world.patient_x)
    first = reminders_of(appointment.id)[0]
    deliver_now(OutboxMessage.id == first.id)
    [copy] = reminders_of(appointment.id, relative=True)
    assert copy.status is MessageStatus.FAILED
    db.session.refresh(first)
    assert first.status is MessageStatus.SENT
    assert db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.MESSAGE_FAILED)).all() == []


def test_revocation_by_the_patient_tells_the_relative_without_why(
        client: Client, world: World, make: Factory, sms: CapturingSms) -> None:
    access = give_access(world.patient_x, world.relative, ["appointments"])
    sign_in_as(client, world.patient_x.user)
    response = client.submit(f"/me/relatives/access/{access.id}/revoke", page="/me/relatives/",
                             follow_redirects=True)
    assert "Access ended." in response.text
    client.submit(f"/me/relatives/access/{access.id}/revoke", page="/me/relatives/")
    [message] = outbox_of(MessagePurpose.ACCESS_ENDED)
    assert message.recipient_user_id == world.relative.id
    deliver_now()
    [body] = sms_to(sms, world.relative.phone)
    assert body == texts.render("access_ended", "sms", {}, None).body
    assert_discreet(body, "Xena", "Pasient", "Rita", "sister", world.clinic_a.name, "Klinikk",
                    "because", "fordi")
    assert sms_to(sms, world.patient_x.user.phone) == []


def test_leaving_sends_nothing_and_keeps_other_accesses(
        client: Client, world: World, make: Factory, sms: CapturingSms) -> None:
    give_access(world.patient_x, world.relative, ["appointments", "reminders"])
    give_access(world.patient_y, world.relative, ["appointments"])
    sign_in_as(client, world.relative)
    response = client.submit(f"/relative/access/{world.patient_x.id}/leave",
                             page=f"/relative/patients/{world.patient_x.id}/",
                             follow_redirects=True)
    assert "Your access has ended." in response.text
    assert "Yngve Pasient" in response.text and "Xena Pasient" not in response.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    deliver_now()
    assert sms.sent == []
    [left, kept] = sorted(db.session.scalars(select(RelativeAccess)),
                          key=lambda a: a.patient_id != world.patient_x.id)
    assert left.revoked_at is not None and left.revoked_by == "relative"
    assert kept.revoked_at is None
    assert client.get(f"/relative/patients/{world.patient_y.id}/").status_code == 200
    assert client.get(f"/relative/patients/{world.patient_x.id}/").status_code == 404
    # No more reminder copies for the patient they left.
    appointment = make.appointment(world.patient_x)
    deliver_now(OutboxMessage.id == reminders_of(appointment.id)[0].id)
    assert reminders_of(appointment.id, relative=True) == []


# --- outreach ------------------------------------------------------------------------------

@pytest.mark.parametrize("scopes,revoked,expected", [
    (["no_show_contact"], False, True),
    (["appointments", "reminders", "take_home", "pickup_plan", "observations"], False, False),
    (["no_show_contact"], True, False),
    (None, False, False),
])
def test_outreach_suggests_a_relative_only_with_the_scope(
        world: World, make: Factory, scopes: list[str] | None, revoked: bool,
        expected: bool) -> None:
    if scopes is not None:
        access = give_access(world.patient_x, world.relative, scopes)
        if revoked:
            relatives.revoke(access, "patient")
    appointment = make.appointment(world.patient_x)
    appointment.starts_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    appointments.mark_attendance(appointment, Attendance.MISSED, world.doctor_a)
    [item] = db.session.scalars(select(WorkItem).where(WorkItem.kind == WorkKind.OUTREACH))
    assert ("relative" in item.details["methods"]) is expected
    assert item.details["methods"][:2] == ["call", "sms"]


# --- staff ---------------------------------------------------------------------------------

def register_data(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Mona Mor", "relationship": "mother", "phone": NEW_NUMBER,
                            "email": "", "ends_on": "", "scopes": ["appointments", "reminders"],
                            "consent_method": "phone", "consent_on": oslo_today().isoformat()}
    data.update(fields)
    return data


@pytest.mark.parametrize("missing", ["consent_method", "consent_on", "both"])
def test_staff_registration_needs_consent(client: Client, world: World, sms: CapturingSms,
                                          missing: str) -> None:
    data = register_data()
    for name in (("consent_method", "consent_on") if missing == "both" else (missing,)):
        data.pop(name)
    url = f"/staff/patients/{world.patient_x.id}/relatives/new"
    sign_in_as(client, world.coordinator_a)
    response = client.submit(url, data)
    assert response.status_code == 200
    text = page(response)
    if missing in ("consent_method", "both"):
        assert "Record how the patient gave consent." in text
    if missing in ("consent_on", "both"):
        assert "Enter a date, for example 24.12.2026." in text
    assert 'value="Mona Mor"' in response.text
    assert all_invitations() == [] and sms.sent == []
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_staff_register_a_relative_for_a_letter_patient(client: Client, world: World,
                                                       make: Factory,
                                                       sms: CapturingSms) -> None:
    patient = make.patient(world.clinic_a, "Lars Brev", phone=None, channels=(Channel.LETTER,))
    consent_on = oslo_today() - timedelta(days=2)
    sign_in_as(client, world.coordinator_a)
    response = client.submit(f"/staff/patients/{patient.id}/relatives/new",
                             register_data(consent_method="in_person",
                                           consent_on=consent_on.isoformat()),
                             follow_redirects=True)
    assert "Registered. The relative gets an invitation, and the patient is told." in response.text
    assert "registered by Koordinator A" in response.text
    [invitation] = all_invitations()
    assert invitation.registered_by_id == world.coordinator_a.id
    assert invitation.consent_method is ConsentMethod.IN_PERSON
    assert invitation.consent_on == consent_on
    assert invitation.scopes == ["appointments", "reminders"]
    [sent] = sms.sent
    assert sent.to == NEW_E164
    assert sent.body.startswith("Lars har invitert deg")  # first name only
    assert_discreet(sent.body, "Brev", world.clinic_a.name, "Klinikk")
    assert relatives.invitation_for(token_in(sent.body)) == invitation
    [told] = outbox_of(MessagePurpose.RELATIVE_ADDED)
    assert told.patient_id == patient.id and told.recipient_user_id is None
    assert Channel.LETTER.value in told.channels
    deliver_now(OutboxMessage.id == told.id)
    db.session.refresh(told)
    assert told.status is MessageStatus.LETTER_QUEUED
    # Once accepted, staff see who registered it and the consent.
    relatives.accept(invitation, make.relative("Mona Mor"))
    shown = page(client.get(f"/staff/patients/{patient.id}/relatives"))
    assert "Registered by Koordinator A; consent in person, at the clinic on" in shown


def test_staff_registration_still_checks_the_contact(client: Client, world: World,
                                                    sms: CapturingSms) -> None:
    sign_in_as(client, world.doctor_a)
    response = client.submit(f"/staff/patients/{world.patient_x.id}/relatives/new",
                             register_data(phone="", email=""))
    assert "Write a mobile number or an email address." in response.text
    assert all_invitations() == [] and sms.sent == []
    assert outbox_of(MessagePurpose.RELATIVE_ADDED) == []


def test_who_may_manage_relatives() -> None:
    assert policy.STAFF_ACTIONS["manage_relatives"] >= {
        StaffRole.COORDINATOR, StaffRole.DOCTOR, StaffRole.NURSE}
    assert StaffRole.CLINIC_ADMIN not in policy.STAFF_ACTIONS["manage_relatives"]


@pytest.mark.parametrize("who,status", [
    ("coordinator_a", 200), ("doctor_a", 200), ("nurse_a", 200), ("admin_a", 403),
    ("nurse_b", 404),
])
def test_staff_registration_by_role_and_clinic(client: Client, world: World, make: Factory,
                                               sms: CapturingSms, who: str,
                                               status: int) -> None:
    staff = {"nurse_a": lambda: make.staff(world.clinic_a, StaffRole.NURSE),
             "admin_a": lambda: make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)}.get(
        who, lambda: getattr(world, who))()
    sign_in_as(client, staff)
    url = f"/staff/patients/{world.patient_x.id}/relatives/new"
    assert client.get(url).status_code == status
    token = client.csrf_token("/staff/")
    response = client.post(url, data={"csrf_token": token, **register_data()})
    if status == 200:
        assert response.status_code == 302
        assert len(all_invitations()) == 1 and len(sms.sent) == 1
    else:
        assert response.status_code == status
        assert all_invitations() == [] and sms.sent == []
    index = client.get(f"/staff/patients/{world.patient_x.id}/relatives")
    assert index.status_code == (404 if who == "nurse_b" else 200)
    if who == "admin_a":
        assert "Register a relative for the patient" not in index.text


AGREEMENT = {"role": "Følger Xena til timer ved behov",
             "expectations": "Informasjon om avtaler etter samtykke",
             "contact": "Koordinator på telefon 22 00 00 00",
             "frequency": "En gang i måneden"}


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_agreement_is_saved_and_printed(client: Client, world: World,
                                        new_client: Callable[..., Client]) -> None:
    access = give_access(world.patient_x, world.relative, ["appointments", "observations"])
    sign_in_as(client, world.doctor_a)
    url = f"/staff/relatives/{access.id}/agreement"
    response = client.submit(url, AGREEMENT, follow_redirects=True)
    assert "The agreement is saved." in response.text
    saved = db.session.get(RelativeAgreement, access.id)
    assert saved is not None and saved.recorded_by_id == world.doctor_a.id
    assert {k: getattr(saved, k) for k in AGREEMENT} == AGREEMENT
    # The form shows what is saved.
    assert AGREEMENT["frequency"] in client.get(url).text
    staff_pdf = client.get(f"/staff/relatives/{access.id}/agreement.pdf")
    assert staff_pdf.status_code == 200 and staff_pdf.mimetype == "application/pdf"
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    assert f"/me/relatives/access/{access.id}/agreement.pdf" in patient.get("/me/relatives/").text
    download = patient.get(f"/me/relatives/access/{access.id}/agreement.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")
    text = pdf_text(download.data)
    with force_locale("nb"):
        scope_words = [str(RELATIVE_SCOPES[s]) for s in ("appointments", "observations")]
        left_out = str(RELATIVE_SCOPES["take_home"])
    for expected in ["Xena Pasient", "Rita Pårørende", "sister", *scope_words,
                     *AGREEMENT.values()]:
        assert expected in text, expected
    assert left_out not in text
    # Another patient, and staff of another clinic, get nothing.
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    assert other.get(f"/me/relatives/access/{access.id}/agreement.pdf").status_code == 404
    elsewhere = new_client()
    sign_in_as(elsewhere, world.nurse_b)
    assert elsewhere.get(f"/staff/relatives/{access.id}/agreement.pdf").status_code == 404
    assert elsewhere.get(url).status_code == 404


def test_no_agreement_no_pdf(client: Client, world: World) -> None:
    access = give_access(world.patient_x, world.relative, ["appointments"])
    sign_in_as(client, world.patient_x.user)
    assert client.get(f"/me/relatives/access/{access.id}/agreement.pdf").status_code == 404
    assert "agreement.pdf" not in client.get("/me/relatives/").text


def test_a_clinic_admin_cannot_record_an_agreement(client: Client, world: World,
                                                   make: Factory) -> None:
    access = give_access(world.patient_x, world.relative, ["appointments"])
    sign_in_as(client, make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN))
    assert client.get(f"/staff/relatives/{access.id}/agreement").status_code == 403
    assert client.get(f"/staff/relatives/{access.id}/agreement.pdf").status_code == 404


# --- observations --------------------------------------------------------------------------

def observe_url(patient: PatientProfile) -> str:
    return f"/relative/patients/{patient.id}/observations"


@pytest.mark.parametrize("text,message", [
    ("Hun sover lite. " * 62 + "x" * 9, "Please keep it under 1000 characters."),
    ("", "Write what you want to tell the care team."),
    ("   ", "Write what you want to tell the care team."),
])
def test_a_bad_observation_is_refused_and_kept(client: Client, world: World, text: str,
                                               message: str) -> None:
    give_access(world.patient_x, world.relative, ["observations"])
    sign_in_as(client, world.relative)
    response = client.submit(observe_url(world.patient_x), {"kind": "worry", "text": text})
    assert response.status_code == 200
    assert message in page(response)
    if text.strip():
        assert len(text) == 1001
        assert html.escape(text) in response.text
    assert db.session.scalars(select(RelativeObservation)).all() == []
    assert db.session.scalars(select(WorkItem)).all() == []


def test_an_observation_of_exactly_the_limit_is_accepted(client: Client, world: World) -> None:
    give_access(world.patient_x, world.relative, ["observations"])
    sign_in_as(client, world.relative)
    response = client.submit(observe_url(world.patient_x), {"kind": "change", "text": "y" * 1000})
    assert response.status_code == 302
    [stored] = db.session.scalars(select(RelativeObservation)).all()
    assert len(stored.text) == 1000


def test_an_observation_is_shown_escaped_to_the_patient_and_clinic_a_only(
        client: Client, world: World, new_client: Callable[..., Client]) -> None:
    give_access(world.patient_x, world.relative, ["observations"])
    sign_in_as(client, world.relative)
    text = 'Hun sover lite <script>alert("x")</script> & spiser <b>ingenting</b>'
    response = client.submit(observe_url(world.patient_x), {"kind": "worry", "text": text},
                             follow_redirects=True)
    assert "Sent to the care team. Thank you for telling us." in response.text
    [stored] = db.session.scalars(select(RelativeObservation)).all()
    assert stored.text == text and stored.clinic_id == world.clinic_a.id
    [item] = db.session.scalars(select(WorkItem)).all()
    assert item.kind is WorkKind.RELATIVE_OBSERVATION and item.clinic_id == world.clinic_a.id

    def shows_escaped(body: str) -> None:
        assert "Hun sover lite &lt;script&gt;alert(" in body
        assert "&lt;b&gt;ingenting&lt;/b&gt;" in body
        assert "<script>alert(" not in body and "<b>ingenting</b>" not in body

    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    shows_escaped(patient.get("/me/relatives/").text)
    for staff in (world.coordinator_a, world.doctor_a):
        browser = new_client()
        sign_in_as(browser, staff)
        shows_escaped(browser.get(f"/staff/patients/{world.patient_x.id}/relatives").text)
        worklist = browser.get("/staff/worklist").text
        shows_escaped(worklist)
        assert "Rita Pårørende (sister)" in worklist
    outsider = new_client()
    sign_in_as(outsider, world.nurse_b)
    worklist = outsider.get("/staff/worklist").text
    assert "Hun sover lite" not in worklist and "Rita" not in worklist
    assert outsider.get(f"/staff/patients/{world.patient_x.id}/relatives").status_code == 404
    other_patient = new_client()
    sign_in_as(other_patient, world.patient_y.user)
    assert "Hun sover lite" not in other_patient.get("/me/relatives/").text


def test_without_the_scope_no_observation(client: Client, world: World) -> None:
    give_access(world.patient_x, world.relative, ["appointments"])
    sign_in_as(client, world.relative)
    assert client.get(observe_url(world.patient_x)).status_code == 404
    response = client.post(observe_url(world.patient_x), data={
        "csrf_token": client.csrf_token(f"/relative/patients/{world.patient_x.id}/"),
        "kind": "worry", "text": "Hei"})
    assert response.status_code == 404
    assert db.session.scalars(select(RelativeObservation)).all() == []
