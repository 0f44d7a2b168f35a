"""Check-ins by SMS: the reply parser, the invitation after an attended clinic appointment,
answers by SMS from invitation to stored response, and the alerts at their thresholds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from server.extensions import db
from server.messages import conversations
from server.messages.conversations import sms_segments
from server.messages.models import MessageVia
from server.models import (
    AnonymousFeedback,
    Appointment,
    Attendance,
    FeedbackInvitation,
    FeedbackResponse,
    FeedbackVia,
    InboundSms,
    InvitationStatus,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    PatientProfile,
    ServiceKind,
    User,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.notify import texts
from server.services import appointments, feedback, instruments, sms_inbound
from server.services.feedback import Answer, parse_scores
from tests.conftest import CapturingSms, Client, Factory, World, deliver_now
from tests.test_notifications import FORBIDDEN


@pytest.fixture(autouse=True)
def daytime(monkeypatch: pytest.MonkeyPatch) -> None:
    """No quiet hours, whatever the real clock says: check-in SMS are not IMMEDIATE."""
    import server.notify.worker as worker_module

    monkeypatch.setattr(worker_module, "in_quiet_hours", lambda *args: False)


# -- the parser ------------------------------------------------------------------------------

ONE = [
    ("8", [8]), (" 8 ", [8]), ("\t8\n", [8]), ("10", [10]), ("0", [0]), ("08", [8]),
    ("8/10", [8]), ("10/10", [10]), ("0/10", [0]), ("8 / 10", [8]), ("8 av 10", [8]),
    ("8 of 10", [8]), ("8 out of 10", [8]), ("8 av 10 takk", [8]),
    ("åtte", [8]), ("ÅTTE", [8]), ("ti", [10]), ("Ti!", [10]), ("null", [0]), ("sju", [7]),
    ("syv", [7]), ("Eight", [8]), ("eitt", [1]),
    ("8️⃣", [8]), ("8\u20e3", [8]), ("🔟", [10]), ("1️⃣0️⃣", [10]), ("０", [0]), ("８", [8]), ("１０", [10]),
    ("8!", [8]), ("8.", [8]), ("(8)", [8]), ("8 :)", [8]), ("Takk, 8", [8]), ("8 takk", [8]),
    ("Hei 7", [7]), ("Hei! 7. Mvh", [7]), ("tusen takk 10", [10]), ("ok 5", [5]),
    ("8\u200b", [8]),
]
FOUR = [
    ("8 7 9 8", [8, 7, 9, 8]), ("8,7,9,8", [8, 7, 9, 8]), ("8, 7, 9, 8", [8, 7, 9, 8]),
    ("8-7-9-8", [8, 7, 9, 8]), ("8 - 7 - 9 - 8", [8, 7, 9, 8]), ("8/7/9/8", [8, 7, 9, 8]),
    ("8 / 7 / 9 / 8", [8, 7, 9, 8]), ("8.7.9.8", [8, 7, 9, 8]), ("8;7;9;8", [8, 7, 9, 8]),
    ("8\n7\n9\n8", [8, 7, 9, 8]), ("8  7\t9 8", [8, 7, 9, 8]), ("8 7 9 8.", [8, 7, 9, 8]),
    ("10 10 10 10", [10, 10, 10, 10]), ("0 0 0 0", [0, 0, 0, 0]),
    ("10/10/10/10", [10, 10, 10, 10]), ("8/10/9/8", [8, 10, 9, 8]),
    ("8/7/9/10", [8, 7, 9, 10]), ("10,0,10,0", [10, 0, 10, 0]),
    ("åtte sju ni åtte", [8, 7, 9, 8]), ("ti null fem ti", [10, 0, 5, 10]),
    ("eight seven nine eight", [8, 7, 9, 8]), ("8 7 9 8 takk", [8, 7, 9, 8]),
    ("Hei, 8 7 9 8", [8, 7, 9, 8]), ("8️⃣ 7️⃣ 9️⃣ 8️⃣", [8, 7, 9, 8]),
    ("8️⃣7️⃣9️⃣8️⃣", [8, 7, 9, 8]),
    ("8️⃣7️⃣9️⃣🔟", [8, 7, 9, 10]), ("８ ７ ９ ８", [8, 7, 9, 8]), ("8 sju 9 åtte", [8, 7, 9, 8]),
]
INVALID = [
    "11", "-1", "- 1", "Takk, -1", "8 7 -9 8", "100", "1000", "12 av 10", "8 7", "7,5", "7.5",
    "8 7 9", "8 7 9 8 7", "8 7 9 8 7 6", "ja", "JA", "nei", "STOPP", "", " ", "hundre",
    "tusen takk", "8 7 9 x", "8 7 9 11", "åtte sju ni elleve", "8 + 7", "ring meg", "1️⃣1️⃣",
]


@pytest.mark.parametrize(("text", "expected"), ONE + FOUR + [(t, None) for t in INVALID],
                         ids=repr)
def test_parse_scores(text: str, expected: list[int] | None) -> None:
    assert parse_scores(text) == expected


def test_the_table_is_broad() -> None:
    assert len(ONE) >= 15 and len(FOUR) >= 12 and len(INVALID) >= 13
    assert len(ONE) + len(FOUR) + len(INVALID) >= 40


# -- helpers ---------------------------------------------------------------------------------

def attended(make: Factory, patient: PatientProfile, by: User,
             service: ServiceKind = ServiceKind.CLINIC) -> Appointment:
    """A past appointment whose notice and reminders went out, marked attended."""
    appointment = make.appointment(patient, service=service, service_name="Klinikken")
    deliver_now(OutboxMessage.appointment_id == appointment.id)
    appointment.starts_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    appointments.mark_attendance(appointment, Attendance.ATTENDED, by=by)
    return appointment


def invitation_of(appointment: Appointment) -> FeedbackInvitation:
    return db.session.scalars(select(FeedbackInvitation).where(
        FeedbackInvitation.appointment_id == appointment.id)).one()


def messages(purpose: MessagePurpose) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose)))


def expected_sms(patient: PatientProfile, template: str, **params: Any) -> str:
    """The text as the worker renders it, in the patient's language."""
    return texts.render(template, "sms", params, patient.user.language).body


def passed_on(patient: PatientProfile, hint: str, language: str | None = None) -> str:
    """The answer to an SMS that went to the team instead of being applied."""
    day = conversations.answer_by(patient.clinic, utcnow()).isoformat()
    return texts.render("reply_passed_on", "sms", {"on_day": day, "hint": hint},
                        language or patient.user.language).body


def in_inbox(patient: PatientProfile, body: str) -> bool:
    """The SMS is a message in one of the patient's conversations (nothing is lost)."""
    return any(m.body == body and m.via is MessageVia.SMS
               for c in conversations.for_patient(patient) for m in c.messages)


def reply(patient: PatientProfile, sid: str, body: str, sms: CapturingSms) -> str:
    """Receive an SMS from the patient and return the SMS we answer with."""
    before = len(sms.sent)
    sms_inbound.receive(sid, patient.user.phone or "", body)
    deliver_now(OutboxMessage.purpose == MessagePurpose.REPLY)
    assert len(sms.sent) == before + 1, "exactly one answer"
    assert sms.sent[-1].to == patient.user.phone
    return sms.sent[-1].body


def responses() -> list[FeedbackResponse]:
    return list(db.session.scalars(select(FeedbackResponse).order_by(FeedbackResponse.id)))


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def invited(make: Factory, world: World, sms: CapturingSms) -> FeedbackInvitation:
    """Xena attended a clinic appointment and got the check-in SMS."""
    appointment = attended(make, world.patient_x, world.doctor_a)
    invitation = invitation_of(appointment)
    sent_before = len(sms.sent)
    deliver_now(OutboxMessage.purpose == MessagePurpose.FEEDBACK_INVITE)
    assert len(sms.sent) == sent_before + 1
    return invitation


# -- invitations -----------------------------------------------------------------------------

def test_an_attended_clinic_appointment_invites_once(make: Factory, world: World) -> None:
    appointment = attended(make, world.patient_x, world.doctor_a)
    invitation = invitation_of(appointment)
    assert invitation.patient_id == world.patient_x.id
    assert invitation.clinic_id == world.clinic_a.id
    assert invitation.instrument_key == feedback.INVITE_INSTRUMENT == "how_was_the_meeting"
    assert invitation.status is InvitationStatus.OPEN
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    [invite] = messages(MessagePurpose.FEEDBACK_INVITE)
    [reminder] = messages(MessagePurpose.FEEDBACK_REMINDER)
    for message in (invite, reminder):
        assert message.channels == ["sms"]
        assert message.params == {"invitation_id": invitation.id}
        assert message.status is MessageStatus.PENDING
        assert message.appointment_id is None  # a reply to it is never read as about the visit
    assert reminder.due_at - invite.due_at == feedback.REMINDER_AFTER
    # Marking it attended again, or missed and then attended, changes nothing.
    appointments.mark_attendance(appointment, Attendance.ATTENDED, by=world.doctor_a)
    appointments.mark_attendance(appointment, Attendance.MISSED, by=world.doctor_a)
    appointments.mark_attendance(appointment, Attendance.ATTENDED, by=world.doctor_a)
    assert count(FeedbackInvitation) == 1
    assert len(messages(MessagePurpose.FEEDBACK_INVITE)) == 1
    assert len(messages(MessagePurpose.FEEDBACK_REMINDER)) == 1


def test_a_gp_appointment_or_a_missed_one_gets_no_invitation(make: Factory, world: World) -> None:
    attended(make, world.patient_x, world.doctor_a, service=ServiceKind.GP)
    missed = make.appointment(world.patient_y, service=ServiceKind.CLINIC)
    missed.starts_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    appointments.mark_attendance(missed, Attendance.MISSED, by=world.doctor_a)
    assert count(FeedbackInvitation) == 0
    assert messages(MessagePurpose.FEEDBACK_INVITE) == []
    assert messages(MessagePurpose.FEEDBACK_REMINDER) == []


def test_the_invitation_sms_is_discreet_and_one_segment(invited: FeedbackInvitation,
                                                        world: World, sms: CapturingSms) -> None:
    patient = world.patient_x
    message = sms.sent[-1]
    assert message.to == patient.user.phone
    assert message.body == expected_sms(patient, "feedback_invite", invitation_id=invited.id)
    assert not FORBIDDEN.search(message.body), message.body
    assert len(message.body) <= 160
    [invite] = messages(MessagePurpose.FEEDBACK_INVITE)
    assert invite.status is MessageStatus.SENT and invite.channel == "sms"
    for language in ("nb", "nn", "en"):
        for template in ("feedback_invite", "feedback_reminder", "feedback_thanks"):
            text = texts.render(template, "sms", {"invitation_id": invited.id}, language).body
            assert not FORBIDDEN.search(text) and len(text) <= 160, (template, language, text)
        for hint in ("feedback_unclear", "feedback_closed"):
            text = passed_on(patient, hint, language)
            assert not FORBIDDEN.search(text) and sms_segments(text) <= 2, (hint, language, text)


# -- answers by SMS --------------------------------------------------------------------------

def test_four_numbers_store_one_response_then_the_check_in_is_closed(
        invited: FeedbackInvitation, world: World, sms: CapturingSms) -> None:
    patient = world.patient_x
    instrument = instruments.latest("how_was_the_meeting")
    assert instrument is not None
    answer = reply(patient, "SMfb1", "8 7 9 8", sms)
    assert answer == expected_sms(patient, "feedback_thanks")
    [response] = responses()
    assert response.patient_id == patient.id and response.clinic_id == world.clinic_a.id
    assert response.invitation_id is None  # see feedback.submit: no link back to the invitation
    assert response.via is FeedbackVia.SMS
    assert response.instrument_key == "how_was_the_meeting"
    assert response.instrument_version == instrument.version
    assert response.scores == dict(zip(instrument.item_keys, [8, 7, 9, 8], strict=True))
    assert response.scores == {"listened": 8, "topics": 7, "approach": 9, "overall": 8}
    assert response.total == 32
    assert response.week == feedback.iso_week(response.created_at)
    db.session.refresh(invited)
    assert invited.status is InvitationStatus.ANSWERED
    inbound = db.session.scalars(select(InboundSms).where(
        InboundSms.provider_message_id == "SMfb1")).one()
    assert inbound.understood_as == "feedback" and inbound.patient_id == patient.id
    # 32 is below the default 36 of "How was the meeting?": the care team is told.
    [alert] = db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.FEEDBACK_ALERT)).all()
    assert alert.patient_id == patient.id and alert.details["total"] == 32

    # A second answer changes no scores: the team reads it, and the reply says it is closed.
    again = reply(patient, "SMfb2", "2 2 2 2", sms)
    assert again == passed_on(patient, "feedback_closed")
    assert in_inbox(patient, "2 2 2 2")
    assert again != expected_sms(patient, "feedback_thanks")
    assert len(responses()) == 1 and responses()[0].total == 32
    # The same webhook delivered again is ignored entirely.
    assert sms_inbound.receive("SMfb1", patient.user.phone or "", "8 7 9 8") is None
    assert len(responses()) == 1

    # The one reminder is never sent now.
    sent_before = len(sms.sent)
    deliver_now(OutboxMessage.purpose == MessagePurpose.FEEDBACK_REMINDER)
    [reminder] = messages(MessagePurpose.FEEDBACK_REMINDER)
    assert reminder.status is MessageStatus.CANCELLED
    assert len(sms.sent) == sent_before


def test_an_unclear_reply_gets_help_and_goes_to_the_team_not_the_scores(
        invited: FeedbackInvitation, world: World, sms: CapturingSms) -> None:
    patient = world.patient_x
    for n, body in enumerate(["blah", "8 7", "11"]):
        answer = reply(patient, f"SMhelp{n}", body, sms)
        assert answer == passed_on(patient, "feedback_unclear"), body
        assert in_inbox(patient, body), body
    assert responses() == [] and count(AnonymousFeedback) == 0
    db.session.refresh(invited)
    assert invited.status is InvitationStatus.OPEN
    # After the help text the patient can still answer.
    assert reply(patient, "SMhelp9", "9", sms) == expected_sms(patient, "feedback_thanks")
    assert len(responses()) == 1


def test_words_after_a_check_in_still_answer_the_appointment(
        invited: FeedbackInvitation, world: World, sms: CapturingSms) -> None:
    # "JA" is an answer to an appointment, not a score: it is not taken as feedback. With no
    # coming appointment to apply it to, it goes to the team.
    answer = reply(world.patient_x, "SMja", "JA", sms)
    assert answer == passed_on(world.patient_x, "no_appointment")
    assert responses() == []
    db.session.refresh(invited)
    assert invited.status is InvitationStatus.OPEN


def test_one_number_answers_the_overall_item_only(invited: FeedbackInvitation, world: World,
                                                  sms: CapturingSms) -> None:
    answer = reply(world.patient_x, "SMone", "Takk, 8", sms)
    assert answer == expected_sms(world.patient_x, "feedback_thanks")
    [response] = responses()
    assert response.scores == {"overall": 8}
    assert response.total is None
    assert response.via is FeedbackVia.SMS
    # Without a total there is nothing to compare with a threshold.
    assert alerts() == []


def test_an_expired_invitation_stores_nothing(invited: FeedbackInvitation, world: World,
                                              sms: CapturingSms) -> None:
    invited.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    answer = reply(world.patient_x, "SMlate", "8 7 9 8", sms)
    assert answer == passed_on(world.patient_x, "feedback_closed")
    assert responses() == []
    db.session.refresh(invited)
    assert invited.status is InvitationStatus.OPEN  # expired by its time, not answered
    # Its reminder is not sent either.
    sent_before = len(sms.sent)
    deliver_now(OutboxMessage.purpose == MessagePurpose.FEEDBACK_REMINDER)
    assert messages(MessagePurpose.FEEDBACK_REMINDER)[0].status is MessageStatus.CANCELLED
    assert len(sms.sent) == sent_before


def test_the_reminder_goes_out_once_while_open_and_answers_still_count(
        invited: FeedbackInvitation, world: World, sms: CapturingSms) -> None:
    patient = world.patient_x
    deliver_now(OutboxMessage.purpose == MessagePurpose.FEEDBACK_REMINDER)
    [reminder] = messages(MessagePurpose.FEEDBACK_REMINDER)
    assert reminder.status is MessageStatus.SENT
    assert sms.sent[-1].body == expected_sms(patient, "feedback_reminder",
                                             invitation_id=invited.id)
    assert not FORBIDDEN.search(sms.sent[-1].body) and len(sms.sent[-1].body) <= 160
    sent = len(sms.sent)
    deliver_now(OutboxMessage.purpose == MessagePurpose.FEEDBACK_REMINDER)
    assert len(sms.sent) == sent
    # A reply to the reminder answers the invitation.
    assert reply(patient, "SMrem", "åtte sju ni åtte", sms) == expected_sms(patient,
                                                                           "feedback_thanks")
    assert responses()[0].total == 32


def test_stop_still_stops_during_a_check_in(invited: FeedbackInvitation, world: World,
                                            sms: CapturingSms) -> None:
    sms_inbound.receive("SMstop", world.patient_x.user.phone or "", "STOPP")
    db.session.refresh(world.patient_x)
    assert "sms" not in world.patient_x.contact_channels
    assert responses() == []
    assert db.session.scalars(select(WorkItem)).one().kind is WorkKind.SMS_STOPPED


class TestSignedWebhook:
    TOKEN = "test-twilio-auth-token"
    BASE = "https://folge.example"

    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {"twilio_auth_token": self.TOKEN, "public_base_url": self.BASE}

    def post(self, client: Client, params: dict[str, str], signed: bool = True) -> Any:
        path = "/webhooks/sms/inbound"
        headers = {"X-Twilio-Signature": RequestValidator(self.TOKEN).compute_signature(
            self.BASE + path, params)} if signed else {}
        return client.post(path, data=params, headers=headers)

    def test_a_signed_reply_is_stored_an_unsigned_one_is_not(
            self, client: Client, invited: FeedbackInvitation, world: World,
            sms: CapturingSms) -> None:
        phone = world.patient_x.user.phone or ""
        refused = self.post(client, {"MessageSid": "SM" + "0" * 32, "From": phone, "Body": "1 1 1 1"},
                            signed=False)
        assert refused.status_code == 403 and responses() == []
        accepted = self.post(client, {"MessageSid": "SM" + "1" * 32, "From": phone,
                                      "Body": "8, 7, 9, 8 takk"})
        assert accepted.status_code == 200
        [response] = responses()
        assert response.total == 32 and response.via is FeedbackVia.SMS
        deliver_now(OutboxMessage.purpose == MessagePurpose.REPLY)
        assert sms.sent[-1].body == expected_sms(world.patient_x, "feedback_thanks")


# -- alerts ----------------------------------------------------------------------------------

def alerts() -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.FEEDBACK_ALERT).order_by(WorkItem.id)))


def answer(patient: PatientProfile, key: str, scores: list[int], minutes: int,
           anonymous: bool = False) -> FeedbackResponse | AnonymousFeedback:
    """Answer every item of ``key`` by app, ``minutes`` from a fixed start."""
    instrument = instruments.latest(key)
    assert instrument is not None
    return feedback.submit(patient, Answer(
        instrument=instrument, scores=dict(zip(instrument.item_keys, scores, strict=True)),
        anonymous=anonymous), now=utcnow() - timedelta(days=1) + timedelta(minutes=minutes))


def test_how_are_things_alerts_on_a_drop_of_five(world: World) -> None:
    patient = world.patient_x
    answer(patient, "how_are_things", [8, 8, 8, 8], 0)          # 32: nothing to compare with
    answer(patient, "how_are_things", [7, 7, 7, 7], 1)          # 28: down 4
    assert alerts() == []
    dropped = answer(patient, "how_are_things", [6, 6, 6, 5], 2)  # 23: down 5 from 28
    [alert] = alerts()
    assert alert.patient_id == patient.id and alert.clinic_id == world.clinic_a.id
    assert alert.details == {"instrument": "how_are_things", "total": 23, "max": 40,
                             "threshold": 5, "rule": "drop", "response_id": dropped.id,
                             "previous": 28}
    # A rise, or another patient's drop from someone else's score, alerts no one.
    answer(patient, "how_are_things", [9, 9, 9, 9], 3)
    answer(world.patient_y, "how_are_things", [5, 5, 5, 5], 4)
    assert len(alerts()) == 1


def test_how_are_things_drop_of_four_does_not_alert(world: World) -> None:
    answer(world.patient_x, "how_are_things", [10, 10, 10, 10], 0)
    answer(world.patient_x, "how_are_things", [9, 9, 9, 9], 1)     # 36: down 4
    answer(world.patient_x, "how_are_things", [9, 9, 9, 8], 2)     # 35: down 1
    assert alerts() == []


@pytest.mark.parametrize(("scores", "alerted"), [
    ([9, 9, 9, 8], True),    # 35 < 36
    ([9, 9, 9, 9], False),   # 36
    ([0, 0, 0, 0], True),
    ([10, 10, 10, 10], False),
])
def test_how_was_the_meeting_alerts_below_36(world: World, scores: list[int],
                                             alerted: bool) -> None:
    stored = answer(world.patient_x, "how_was_the_meeting", scores, 0)
    assert bool(alerts()) is alerted
    if alerted:
        assert alerts()[0].details["threshold"] == 36
        assert alerts()[0].details["response_id"] == stored.id


def test_a_clinic_setting_changes_the_threshold(world: World) -> None:
    admin_by = world.doctor_a
    feedback.save_settings(world.clinic_a, {"how_was_the_meeting": 30}, "", by=admin_by)
    answer(world.patient_x, "how_was_the_meeting", [9, 9, 9, 8], 0)    # 35: fine now
    answer(world.patient_x, "how_was_the_meeting", [8, 8, 7, 7], 1)    # 30: not below
    assert alerts() == []
    answer(world.patient_x, "how_was_the_meeting", [8, 7, 7, 7], 2)    # 29
    [alert] = alerts()
    assert alert.details["threshold"] == 30 and alert.details["total"] == 29
    # Another clinic keeps the default.
    answer(world.patient_b, "how_was_the_meeting", [9, 9, 9, 8], 3)    # 35 < 36
    assert [a.clinic_id for a in alerts()] == [world.clinic_a.id, world.clinic_b.id]
    # A drop threshold set by the clinic applies too.
    feedback.save_settings(world.clinic_a, {"how_are_things": 3}, "", by=admin_by)
    answer(world.patient_x, "how_are_things", [8, 8, 8, 8], 4)
    answer(world.patient_x, "how_are_things", [8, 8, 8, 5], 5)         # down 3
    assert alerts()[-1].details["rule"] == "drop" and alerts()[-1].details["threshold"] == 3


def test_anonymous_answers_never_alert(world: World) -> None:
    patient = world.patient_x
    answer(patient, "how_was_the_meeting", [0, 0, 0, 0], 0, anonymous=True)
    answer(patient, "how_are_things", [10, 10, 10, 10], 1)
    answer(patient, "how_are_things", [0, 0, 0, 0], 2, anonymous=True)
    assert alerts() == []
    # Nor does an anonymous answer count as the "previous" one for a drop.
    answer(patient, "how_are_things", [9, 9, 9, 9], 3)        # down 4 from the named 40
    assert alerts() == []
    assert count(AnonymousFeedback) == 2
