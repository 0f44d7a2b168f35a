"""Take-home requests: asking with the rules visible, bad input, deciding, and what follows."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    MessagePurpose,
    OutboxMessage,
    PickupPlace,
    RequestStatus,
    StaffMembership,
    StaffRole,
    TakeHomeRequest,
)
from server.notify import texts
from server.services import take_home
from tests.conftest import Client, Factory, World, deliver_now, sign_in_as
from tests.test_notifications import FORBIDDEN


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(TakeHomeRequest)) or 0


def today(world: World) -> date:
    return take_home.today_for(world.clinic_a)


def form(world: World, days_ahead: int = 30, length: int = 5, **over: str) -> dict[str, str]:
    first = today(world) + timedelta(days=days_ahead)
    values = {
        "client_key": over.pop("client_key", "k" * 32),
        "first_day": first.isoformat(),
        "last_day": (first + timedelta(days=length - 1)).isoformat(),
        "reason": "travel", "place": "travel_pharmacy", "place_name": "Apotek Bodø",
        "abroad": "no", "explanation": "Besøk hos mor", "note": "Min egen merknad",
    }
    values.update(over)
    return values


def ask(client: Client, data: dict[str, str]) -> Any:
    return client.submit("/me/take-home/new", data)


def approve(request: TakeHomeRequest, by: Any, outcome: str = take_home.Outcome.APPROVE,
            **fields: Any) -> TakeHomeRequest:
    return take_home.decide(request, take_home.DecisionInput(
        outcome=outcome, reason=fields.pop("reason", "Stabil lenge."), **fields), by)


# -- the patient's page ----------------------------------------------------------------------

def test_patient_sees_plan_rules_and_approved_periods_without_medication_names(
        client: Client, world: World, make: Factory) -> None:
    take_home.save_rules(world.clinic_a, take_home.RulesInput(
        "Vi ser på hvor stabil du er.", notice_days=10, usual_max_days=7,
        allowed_places=[PickupPlace.PHARMACY, PickupPlace.CLINIC]), world.doctor_a)
    take_home.save_plan(world.patient_x, take_home.PlanInput(
        PickupPlace.PHARMACY, "Apotek Torget", [0, 3], 2), world.doctor_a)
    granted = approve(make.take_home(world.patient_x, starts_in_days=20, days=3), world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/take-home/").text
    assert "Apotek Torget" in page and "Monday, Thursday" in page and "2 days" in page
    assert "Ask at least 10 days before." in page
    assert "up to 7 days at a time" in page
    assert "Vi ser på hvor stabil du er." in page
    assert "Approved take-home" in page and "3 days" in page
    assert f"/me/take-home/{granted.id}" in page
    for word in ("metadon", "buprenorfin", "methadone", "medication", "dose"):
        assert word not in page.lower()
    # The form offers only the places the clinic allows.
    new = client.get("/me/take-home/new").text
    assert 'value="pharmacy"' in new and 'value="clinic"' in new
    assert 'value="home_service"' not in new


def test_a_request_is_stored_once_per_form_even_when_sent_twice(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    first = ask(client, form(world))
    assert first.status_code == 302
    again = ask(client, form(world))
    assert again.headers["Location"] == first.headers["Location"]
    assert count() == 1
    stored = db.session.scalars(select(TakeHomeRequest)).one()
    assert stored.status is RequestStatus.SUBMITTED
    assert stored.place is PickupPlace.TRAVEL_PHARMACY and stored.days == 5
    assert not stored.over_usual_max and not stored.short_notice
    page = client.get(first.headers["Location"]).text
    assert "Sent" in page and "Apotek Bodø" in page and "Withdraw the request" in page


def test_each_form_gets_its_own_key(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    keys = set()
    for _ in range(2):
        page = client.get("/me/take-home/new").text
        start = page.index('name="client_key"')
        keys.add(page[start:start + 120].split('value="')[1].split('"')[0])
    assert len(keys) == 2 and all(len(k) == 32 for k in keys)


@pytest.mark.parametrize("case,expected", [
    ({"first_day": "past"}, "The first day has passed"),
    ({"last_day": "before"}, "The last day must be on or after the first day"),
    ({"length": 91}, "at most 90 days"),
    ({"reason": ""}, "Choose the reason for the request"),
    ({"explanation": "x" * 1001}, "under 1000 characters"),
    ({"note": "x" * 1001}, "under 1000 characters"),
    ({"place_name": "x" * 201}, "under 200 characters"),
    ({"first_day": "31.02.2027"}, "Enter a date"),
    ({"place": ""}, "Choose where you want to pick up"),
])
def test_bad_input_gets_a_message_changes_nothing_and_keeps_what_was_typed(
        client: Client, world: World, case: dict[str, Any], expected: str) -> None:
    sign_in_as(client, world.patient_x.user)
    length = case.pop("length", 5)
    data = form(world, length=length, **{k: str(v) for k, v in case.items()})
    if data["first_day"] == "past":
        data["first_day"] = (today(world) - timedelta(days=1)).isoformat()
    if data["last_day"] == "before":
        data["last_day"] = (today(world) + timedelta(days=20)).isoformat()
    response = ask(client, data)
    assert response.status_code == 200
    assert expected in response.text
    assert "There is a problem" in response.text
    assert count() == 0
    assert "Min egen merknad" in response.text or "x" * 1001 in response.text
    assert data["client_key"] in response.text


def test_overlap_with_a_pending_or_approved_request_is_refused(
        client: Client, world: World, make: Factory) -> None:
    pending = make.take_home(world.patient_x, starts_in_days=30, days=5)
    sign_in_as(client, world.patient_x.user)
    response = ask(client, form(world, days_ahead=33, length=4, client_key="a" * 32))
    assert "overlap another request" in response.text and count() == 1
    take_home.withdraw(pending)
    assert ask(client, form(world, days_ahead=33, length=4, client_key="b" * 32)).status_code == 302
    approve(db.session.get(TakeHomeRequest, 2), world.doctor_a)
    response = ask(client, form(world, days_ahead=36, length=2, client_key="c" * 32))
    assert "overlap another request" in response.text and count() == 2
    # Another patient's dates never clash with mine.
    make.take_home(world.patient_y, starts_in_days=33, days=4)
    assert count() == 3


def test_beyond_the_rules_the_form_says_so_kindly_and_lets_the_patient_ask_anyway(
        client: Client, world: World, new_client: Any) -> None:
    sign_in_as(client, world.patient_x.user)
    data = form(world, days_ahead=3, length=20)
    first = ask(client, data)
    assert first.status_code == 200 and count() == 0
    assert "longer than the 14 days your clinic usually allows" in first.text
    assert "asks for 14 days of notice" in first.text
    assert "You can still ask" in first.text and "Send the request anyway" in first.text
    assert 'name="ask_anyway" type="hidden" value="1"' in first.text
    second = ask(client, {**data, "ask_anyway": "1"})
    assert second.status_code == 302 and count() == 1
    stored = db.session.scalars(select(TakeHomeRequest)).one()
    assert stored.over_usual_max and stored.short_notice
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    assert "Beyond the usual rules" in staff.get("/staff/worklist").text
    assert "Longer than the usual 14 days" in staff.get(f"/staff/take-home/{stored.id}").text


def test_a_change_to_the_regular_arrangement_needs_a_reason(
        client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    empty = client.submit("/me/take-home/change", {"client_key": "c" * 32, "change":
                                                   "fewer_pickups", "explanation": "  "})
    assert "Please tell us why." in empty.text and count() == 0
    done = client.submit("/me/take-home/change", {
        "client_key": "c" * 32, "change": "other_place", "explanation": "Jeg har flyttet",
        "place_name": "Apotek Nord"})
    assert done.status_code == 302
    stored = db.session.scalars(select(TakeHomeRequest)).one()
    assert stored.first_day is None and stored.change.value == "other_place"
    assert "Another pharmacy or pickup place" in client.get(done.headers["Location"]).text


# -- withdrawing -----------------------------------------------------------------------------

def test_patient_can_withdraw_while_undecided_but_not_after(
        client: Client, world: World, make: Factory) -> None:
    sign_in_as(client, world.patient_x.user)
    undecided = make.take_home(world.patient_x)
    client.submit(f"/me/take-home/{undecided.id}/withdraw", page=f"/me/take-home/{undecided.id}")
    db.session.refresh(undecided)
    assert undecided.status is RequestStatus.WITHDRAWN and undecided.withdrawn_at
    decided = approve(make.take_home(world.patient_x, starts_in_days=50), world.doctor_a)
    response = client.submit(f"/me/take-home/{decided.id}/withdraw",
                             page=f"/me/take-home/{decided.id}", follow_redirects=True)
    assert "cannot be withdrawn" in response.text
    db.session.refresh(decided)
    assert decided.status is RequestStatus.APPROVED


# -- deciding --------------------------------------------------------------------------------

def decide_form(**over: str) -> dict[str, str]:
    return {"outcome": "partly", "reason": "Vi starter med en uke.",
            "next_time": "Når vi har sett at det går bra.", **over}


def test_the_whole_flow_from_request_to_answer(client: Client, world: World,
                                               new_client: Any, sms: Any) -> None:
    take_home.save_plan(world.patient_x, take_home.PlanInput(
        PickupPlace.PHARMACY, "Apotek Torget", [0, 2, 4], 1), world.doctor_a)
    make_appointment = Factory().appointment(world.patient_x, starts_in=timedelta(days=2))
    make_appointment.starts_at -= timedelta(days=5)
    db.session.commit()
    from server.models import Attendance
    from server.services import appointments as appointment_service

    appointment_service.mark_attendance(make_appointment, Attendance.ATTENDED, world.doctor_a)
    sign_in_as(client, world.patient_x.user)
    sent = ask(client, form(world, days_ahead=30, length=10, abroad="schengen"))
    request_id = int(sent.headers["Location"].rsplit("/", 1)[1])

    doctor = new_client()
    sign_in_as(doctor, world.doctor_a)
    worklist = doctor.get("/staff/worklist").text
    assert "Xena Pasient" in worklist and "Schengen certificate needed" in worklist
    page = doctor.get(f"/staff/take-home/{request_id}").text
    assert "Apotek Torget" in page  # the current pickup plan
    assert "Attended" in page  # recent attendance
    assert "Save the decision" in page
    # The context comes before the decision form.
    assert page.index("Current pickup plan") < page.index("Save the decision")
    assert page.index("Earlier requests and decisions") < page.index("Save the decision")
    # Opening the request tells the patient nothing; "Start review" does.
    assert db.session.get(TakeHomeRequest, request_id).status is RequestStatus.SUBMITTED
    assert "Being looked at" not in client.get(f"/me/take-home/{request_id}").text
    assert "Start review: tell the patient" in page
    started = doctor.submit(f"/staff/take-home/{request_id}/start-review",
                            page=f"/staff/take-home/{request_id}")
    assert started.status_code == 302
    assert db.session.get(TakeHomeRequest, request_id).status is RequestStatus.UNDER_REVIEW
    assert "Being looked at" in client.get(f"/me/take-home/{request_id}").text
    assert "Start review" not in doctor.get(f"/staff/take-home/{request_id}").text

    first = today(world) + timedelta(days=30)
    saved = doctor.submit(f"/staff/take-home/{request_id}/decide", decide_form(
        first_day=first.isoformat(), last_day=(first + timedelta(days=6)).isoformat()),
        page=f"/staff/take-home/{request_id}")
    assert saved.status_code == 302
    decided = db.session.get(TakeHomeRequest, request_id)
    assert decided.status is RequestStatus.PARTLY_APPROVED
    assert decided.approved_days == 7 and decided.approved_place is PickupPlace.TRAVEL_PHARMACY
    assert decided.approved_place_name == "Apotek Bodø"
    assert decided.decided_by_id == world.doctor_a.id

    # The patient is told through the reminder engine, discreetly.
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.DECISION)).one()
    assert message.patient_id == world.patient_x.id and message.channels == ["sms"]
    deliver_now(OutboxMessage.id == message.id)
    expected = texts.render("decision", "sms", {}, "nb").body  # the patient has no language set
    bodies = [m.body for m in sms.sent if m.body == expected]
    assert len(bodies) == 1 and bodies[0].startswith("Følge:")
    assert not FORBIDDEN.search(bodies[0])

    answer = client.get(f"/me/take-home/{request_id}").text
    assert "Partly approved" in answer and "Vi starter med en uke." in answer
    assert "Når vi har sett at det går bra." in answer
    assert "7 days" in answer
    assert "Statsforvalteren" in answer and "Ask for a new assessment" in answer
    assert "Keep it safe" in answer and "out of sight and reach of children" in answer
    assert "preparing your Schengen certificate" in answer

    # Safe storage: the patient confirms, the clinic sees it.
    client.submit(f"/me/take-home/{request_id}/storage", page=f"/me/take-home/{request_id}")
    assert db.session.get(TakeHomeRequest, request_id).storage_confirmed_at is not None
    assert "Read by the patient" in doctor.get(f"/staff/take-home/{request_id}").text
    # The certificate: on the worklist until ready, then the patient sees it.
    assert "Schengen certificate to arrange" in doctor.get("/staff/worklist").text
    doctor.submit(f"/staff/take-home/{request_id}/certificate",
                  page=f"/staff/take-home/{request_id}")
    assert "Schengen certificate to arrange" not in doctor.get("/staff/worklist").text
    assert "certificate is ready" in client.get(f"/me/take-home/{request_id}").text
    # The approved days become part of the pickup plan.
    plan = client.get("/me/take-home/").text
    assert "Approved take-home" in plan and "7 days" in plan


@pytest.mark.parametrize("language,expected", [
    ("nb", "svar"), ("nn", "svar"), ("en", "answer to your request")])
def test_the_decision_text_is_discreet_in_every_channel(app: Flask, language: str,
                                                        expected: str) -> None:
    for channel in ("sms", "push", "letter"):
        body = texts.render("decision", channel, {}, language).body
        assert expected in body.lower() or channel == "letter"
        assert not FORBIDDEN.search(body)
        assert "take-home" not in body.lower()


def test_a_decision_needs_a_reason_and_changes_nothing_without_one(
        world: World, make: Factory, client: Client) -> None:
    request = make.take_home(world.patient_x)
    sign_in_as(client, world.doctor_a)
    url = f"/staff/take-home/{request.id}"
    response = client.submit(f"{url}/decide", {"outcome": "approve", "reason": "  ",
                                               "next_time": "Skrevet tekst"}, page=url)
    assert response.status_code == 200
    assert "Write the reason. The patient will read it." in response.text
    assert "Skrevet tekst" in response.text  # what was typed is kept
    db.session.refresh(request)
    assert request.is_undecided and request.decided_at is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.DECISION)) == 0
    too_long = client.submit(f"{url}/decide", {"outcome": "decline", "reason": "x" * 2001},
                             page=url)
    assert "under 2000 characters" in too_long.text
    no_choice = client.submit(f"{url}/decide", {"reason": "Grunn"}, page=url)
    assert "Choose a decision." in no_choice.text
    bad_part = client.submit(f"{url}/decide", decide_form(
        first_day=(today(world) + timedelta(days=40)).isoformat(),
        last_day=(today(world) + timedelta(days=35)).isoformat()), page=url)
    assert "on or after the first day" in bad_part.text
    db.session.refresh(request)
    assert request.is_undecided


def test_a_decision_on_a_request_withdrawn_meanwhile_is_refused(
        world: World, make: Factory, client: Client) -> None:
    request = make.take_home(world.patient_x)
    sign_in_as(client, world.doctor_a)
    url = f"/staff/take-home/{request.id}"
    token = client.csrf_token(url)  # the doctor has the page open ...
    take_home.withdraw(request)  # ... when the patient withdraws
    response = client.post(f"{url}/decide", data={"csrf_token": token, **decide_form()})
    assert response.status_code == 200
    assert "The patient withdrew this request while you were deciding" in response.text
    assert "Vi starter med en uke." in response.text  # the doctor's text is not lost
    db.session.refresh(request)
    assert request.status is RequestStatus.WITHDRAWN and request.decided_at is None


def test_second_doctor_is_told_that_someone_else_decided(
        world: World, make: Factory, new_client: Any) -> None:
    other_doctor = make.staff(world.clinic_a, StaffRole.DOCTOR, name="Doktor To")
    request = make.take_home(world.patient_x)
    second = new_client()
    sign_in_as(second, other_doctor)
    url = f"/staff/take-home/{request.id}"
    token = second.csrf_token(url)
    approve(request, world.doctor_a, reason="Første avgjørelse")
    response = second.post(f"{url}/decide", data={"csrf_token": token, "outcome": "decline",
                                                  "reason": "Andre avgjørelse"})
    assert "Someone else decided this request" in response.text
    assert "Første avgjørelse" in response.text  # their decision is shown
    db.session.refresh(request)
    assert request.status is RequestStatus.APPROVED
    assert request.decision_reason == "Første avgjørelse"


def test_two_doctors_deciding_at_the_same_moment_exactly_one_wins(
        app: Flask, world: World, make: Factory) -> None:
    other_doctor = make.staff(world.clinic_a, StaffRole.DOCTOR, name="Doktor To")
    request_id = make.take_home(world.patient_x).id
    deciders = {"approve": world.doctor_a.id, "decline": other_doctor.id}
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(outcome: str) -> None:
        from server.models import User

        with app.app_context():
            found = db.session.get(TakeHomeRequest, request_id)
            by = db.session.get(User, deciders[outcome])
            assert found is not None and by is not None
            start.wait(timeout=10)
            try:
                take_home.decide(found, take_home.DecisionInput(outcome, f"Grunn: {outcome}"), by)
                outcomes[outcome] = "won"
            except take_home.DecisionConflict as exc:
                outcomes[outcome] = exc.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(o,)) for o in deciders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["already_decided", "won"], outcomes
    winner = next(o for o, r in outcomes.items() if r == "won")
    db.session.expire_all()
    stored = db.session.get(TakeHomeRequest, request_id)
    assert stored.decision_reason == f"Grunn: {winner}"
    assert stored.decided_by_id == deciders[winner]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.DECISION)) == 1


# -- who may -----------------------------------------------------------------------------------

def test_a_nurse_cannot_decide_unless_the_clinic_gives_the_right(
        world: World, make: Factory, client: Client) -> None:
    nurse = make.staff(world.clinic_a, StaffRole.NURSE, name="Sykepleier A")
    request = make.take_home(world.patient_x)
    sign_in_as(client, nurse)
    url = f"/staff/take-home/{request.id}"
    page = client.get(url).text
    assert "Save the decision" not in page and "A doctor, or staff given the right" in page
    assert client.submit(f"{url}/decide", decide_form(), page=url).status_code == 403
    db.session.refresh(request)
    assert request.status is RequestStatus.SUBMITTED  # a nurse opening it is not a review
    membership = db.session.scalars(select(StaffMembership).where(
        StaffMembership.user_id == nurse.id)).one()
    membership.decides_take_home = True
    db.session.commit()
    assert client.submit(f"{url}/decide", decide_form(), page=url).status_code == 302
    db.session.refresh(request)
    assert request.status is RequestStatus.PARTLY_APPROVED


def test_other_patients_and_other_clinics_cannot_see_a_request(
        world: World, make: Factory, new_client: Any) -> None:
    request = make.take_home(world.patient_x, explanation="Hemmelig grunn")
    other = new_client()
    sign_in_as(other, world.patient_y.user)
    assert other.get(f"/me/take-home/{request.id}").status_code == 404
    assert "Hemmelig grunn" not in other.get("/me/take-home/").text
    staff_b = new_client()
    sign_in_as(staff_b, world.nurse_b)
    assert staff_b.get(f"/staff/take-home/{request.id}").status_code == 404
    assert "Xena Pasient" not in staff_b.get("/staff/worklist").text
    relative = new_client()
    sign_in_as(relative, world.relative)
    assert relative.get(f"/me/take-home/{request.id}").status_code == 404
    assert relative.get(f"/staff/take-home/{request.id}").status_code == 404


def test_staff_opening_a_request_is_access_logged(world: World, make: Factory,
                                                 client: Client, new_client: Any) -> None:
    request = make.take_home(world.patient_x)
    sign_in_as(client, world.doctor_a)
    client.get(f"/staff/take-home/{request.id}")
    entries = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.patient_id == world.patient_x.id,
        AccessLogEntry.target == AccessTarget.TAKE_HOME)).all()
    assert len(entries) == 1 and entries[0].viewer_user_id == world.doctor_a.id
    assert entries[0].viewer_role == "doctor"
    client.get("/staff/worklist")  # the worklist shows the request: logged as well
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.target == AccessTarget.TAKE_HOME)) == 2
    me = new_client()  # the patient sees it in their own log
    sign_in_as(me, world.patient_x.user)
    assert "one of your take-home requests" in me.get("/me/who-has-seen").text


# -- worklist --------------------------------------------------------------------------------

def test_worklist_puts_the_soonest_first_day_first_and_flags_passed_ones(
        world: World, make: Factory, client: Client) -> None:
    later = make.take_home(world.patient_x, starts_in_days=40)
    sooner = make.take_home(world.patient_y, starts_in_days=20)
    passed = make.take_home(world.patient_x, starts_in_days=2, days=2)
    passed.first_day = today(world) - timedelta(days=1)
    db.session.commit()
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/worklist").text
    positions = [page.index(f"/staff/take-home/{r.id}\"") for r in (passed, sooner, later)]
    assert positions == sorted(positions)
    assert page.count("The first day has passed without a decision.") == 1
    approve(sooner, world.doctor_a)
    assert f"/staff/take-home/{sooner.id}\"" not in client.get("/staff/worklist").text


def test_a_new_assessment_goes_back_on_the_worklist_linked_to_the_first_decision(
        world: World, make: Factory, client: Client, new_client: Any) -> None:
    declined = approve(make.take_home(world.patient_x, starts_in_days=30), world.doctor_a,
                       outcome=take_home.Outcome.DECLINE, reason="Ikke nå.",
                       next_time="Når du har hatt tre stabile måneder.")
    sign_in_as(client, world.patient_x.user)
    page = client.get(f"/me/take-home/{declined.id}/reassess").text
    assert "Ask for a new assessment" in page and "Apotek Torget" in page
    data = form(world, days_ahead=30, length=5, client_key="r" * 32, place="pharmacy",
                place_name="Apotek Torget", explanation="Nå har det gått tre måneder.")
    sent = client.submit(f"/me/take-home/{declined.id}/reassess", data)
    assert sent.status_code == 302
    again = db.session.scalars(select(TakeHomeRequest).where(
        TakeHomeRequest.reassessment_of_id == declined.id)).one()
    assert again.is_undecided
    doctor = new_client()
    sign_in_as(doctor, world.doctor_a)
    assert "New assessment" in doctor.get("/staff/worklist").text
    staff_page = doctor.get(f"/staff/take-home/{again.id}").text
    assert f"/staff/take-home/{declined.id}" in staff_page and "Ikke nå." in staff_page or \
        "Not approved" in staff_page
    # Only a decided request can be assessed again.
    undecided_link = client.get(f"/me/take-home/{again.id}/reassess", follow_redirects=True)
    assert "Only a decided request can be assessed again." in undecided_link.text


def test_free_text_is_shown_escaped(world: World, make: Factory, client: Client) -> None:
    request = make.take_home(world.patient_x, explanation="<script>alert(1)</script>")
    sign_in_as(client, world.doctor_a)
    page = client.get(f"/staff/take-home/{request.id}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# -- clinic settings and the pickup plan -----------------------------------------------------

def test_only_clinic_admins_maintain_the_rules_and_who_may_decide(
        world: World, make: Factory, client: Client, new_client: Any) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    nurse = make.staff(world.clinic_a, StaffRole.NURSE, name="Sykepleier A")
    url = f"/staff/clinics/{world.clinic_a.id}/take-home"
    sign_in_as(client, world.doctor_a)
    assert client.get(url).status_code == 403
    assert "Take-home rules" not in client.get("/staff/worklist").text
    boss = new_client()
    sign_in_as(boss, admin)
    assert boss.get(f"/staff/clinics/{world.clinic_b.id}/take-home").status_code == 404
    page = boss.get(url).text
    assert "Sykepleier A" in page and "Doktor A" not in page
    nurse_membership = db.session.scalars(select(StaffMembership).where(
        StaffMembership.user_id == nurse.id)).one()
    bad = boss.submit(url, {"rules_text": "Ny tekst", "notice_days": "abc",
                            "usual_max_days": "10", "allowed_places": "pharmacy"})
    assert "Write a whole number, for example 14." in bad.text and "Ny tekst" in bad.text
    assert take_home.rules_for(world.clinic_a).rules_text == ""
    none = boss.submit(url, {"rules_text": "Ny tekst", "notice_days": "7",
                             "usual_max_days": "10"})
    assert "Choose at least one pickup place." in none.text
    saved = boss.submit(url, {"rules_text": "Vi legger vekt på stabilitet.", "notice_days": "7",
                              "usual_max_days": "10", "allowed_places": ["pharmacy", "clinic"],
                              "deciders": str(nurse_membership.id)})
    assert saved.status_code == 302
    rules = take_home.rules_for(world.clinic_a)
    assert (rules.notice_days, rules.usual_max_days) == (7, 10)
    assert rules.allowed_places == ["pharmacy", "clinic"]
    db.session.refresh(nurse_membership)
    assert nurse_membership.decides_take_home
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    assert "Vi legger vekt på stabilitet." in patient.get("/me/take-home/").text


def test_doctors_and_nurses_set_the_pickup_plan(world: World, make: Factory, client: Client,
                                                new_client: Any) -> None:
    url = f"/staff/patients/{world.patient_x.id}/pickup-plan"
    coordinator = new_client()
    sign_in_as(coordinator, world.coordinator_a)
    assert coordinator.get(url).status_code == 403
    sign_in_as(client, world.doctor_a)
    empty = client.submit(url, {"place": "pharmacy", "place_name": "Apotek 1",
                                "days_per_pickup": "2"})
    assert "Choose at least one pickup day." in empty.text and "Apotek 1" in empty.text
    assert take_home.plan_for(world.patient_x) is None
    client.submit(url, {"place": "pharmacy", "place_name": "Apotek 1", "weekdays": ["0", "4"],
                        "days_per_pickup": "3"})
    plan = take_home.plan_for(world.patient_x)
    assert plan is not None and plan.weekdays == [0, 4] and plan.days_per_pickup == 3
    assert "Monday, Friday" in client.get(f"/staff/patients/{world.patient_x.id}").text


def test_only_a_decider_starts_the_review(client: Client, new_client: Any, world: World,
                                          make: Factory) -> None:
    request = make.take_home(world.patient_x)
    nurse = make.staff(world.clinic_a, StaffRole.NURSE, name="Sykepleier A")
    sign_in_as(client, nurse)
    assert "Start review" not in client.get(f"/staff/take-home/{request.id}").text
    response = client.submit(f"/staff/take-home/{request.id}/start-review",
                             page=f"/staff/take-home/{request.id}")
    assert response.status_code == 403  # the clinic's own staff, without the right
    db.session.refresh(request)
    assert request.status is RequestStatus.SUBMITTED
    other = new_client()
    sign_in_as(other, world.nurse_b)  # another clinic
    assert other.submit(f"/staff/take-home/{request.id}/start-review",
                        page="/staff/").status_code == 404
