"""The care team: who is responsible for what, how patients and relatives see it, gaps,
the TEAM SMS, the team letter, and bad input on the staff forms (issue 11)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.care_team import areas, handovers, team
from server.care_team.models import (
    ExternalConfirmation,
    ExternalContact,
    Responsibility,
    TeamEvent,
    TeamEventKind,
    TeamMember,
)
from server.care_team.team import TeamError
from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    Channel,
    MessagePurpose,
    MessageStatus,
    OutboxMessage,
    RelativeScope,
    ServiceKind,
    StaffRole,
)
from server.models.base import utcnow
from server.notify.letter import render_letters_pdf
from server.services import letters, relatives, sms_inbound
from tests.conftest import CapturingSms, CareTeam, Client, Factory, World, deliver_now, sign_in_as
from tests.test_notifications import FORBIDDEN


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def current_holders(patient_id: int) -> dict[str, int]:
    rows = team.current_responsibilities(patient_id)
    assert len({r.area_key for r in rows}) == len(rows), "two holders of one area"
    return {r.area_key: r.member_id for r in rows}


# -- what the patient sees -----------------------------------------------------------------

def test_the_patient_sees_the_coordinator_first_with_a_tel_link(
        client: Client, world: World, kari_team: CareTeam) -> None:
    world.clinic_a.crisis_line_name, world.clinic_a.crisis_line_phone = "Hjelpetelefonen", "116123"
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/").text
    names = re.findall(r'<li class="section-card member[^"]*" id="member-(\d+)"', page)
    assert names[0] == str(kari_team.coordinator.id)  # the coordinator first
    assert "Ask this person when you are unsure" in page
    assert 'href="tel:+4722334455"' in page and "22 33 44 55" in page  # the GP, tap to call
    assert 'href="tel:22000000"' in page  # the clinic's own number for its staff
    for number in ('href="tel:113"', 'href="tel:116117"', 'href="tel:116123"'):
        assert number in page
    assert "Physical health" in page and "Check-ups, illness" in page
    assert "Phone open Mon–Fri 08:00–15:30." in page
    assert "Usually answers within 1 working day." in page
    # Being handed over: the holder stays, the receiver is named.
    assert "Being handed over from Doktor A (lege) to Koordinator A (koordinator)." in page
    assert "Klinikk A" not in page  # "your clinic", never the clinic's name


def test_staff_names_follow_the_clinic_setting(client: Client, world: World,
                                               kari_team: CareTeam) -> None:
    world.clinic_a.show_staff_names = False
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/").text
    assert "Doktor A" not in page and "lege" in page
    assert "Dr. Berg" in page  # an external contact is named by their own office


def test_gaps_are_shown_to_the_patient_plainly(client: Client, world: World,
                                               kari_team: CareTeam) -> None:
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/").text
    assert "Not decided yet" in page and "Housing" in page


def test_the_history_says_who_was_responsible_when(client: Client, world: World,
                                                   kari_team: CareTeam) -> None:
    handovers.accept(kari_team.handover, world.coordinator_a)
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/history").text
    assert page.count("Medication and take-home") == 2  # the doctor until now, then the coordinator
    assert "Doktor A (lege)" in page and "Koordinator A (koordinator)" in page


def test_call_me_says_who_calls_from_which_number_by_when(
        client: Client, world: World, make: Factory, kari_team: CareTeam) -> None:
    world.clinic_a.call_back_days = 2
    db.session.commit()
    appointment = make.appointment(world.patient_x, service=ServiceKind.CLINIC)
    sign_in_as(client, world.patient_x.user)
    url = f"/me/appointments/{appointment.id}/cannot-come"
    page = client.submit(url, {"reason": "Syk", "call_me": "y"}, follow_redirects=True).text
    promise = team.call_back(world.patient_x)
    assert "Koordinator A (koordinator) will call you from 22 00 00 00, at the latest" in page
    assert promise.by.weekday() < 5 and promise.by > utcnow().date()
    show = client.get(f"/me/appointments/{appointment.id}").text
    assert 'href="tel:22000000"' in show and "Call 22 00 00 00" in show


def test_a_gp_appointment_shows_the_gps_number(client: Client, world: World, make: Factory,
                                               kari_team: CareTeam) -> None:
    appointment = make.appointment(world.patient_x)  # a GP appointment
    sign_in_as(client, world.patient_x.user)
    assert 'href="tel:+4722334455"' in client.get(f"/me/appointments/{appointment.id}").text


def test_the_patient_chooses_which_members_relatives_see(
        client: Client, world: World, kari_team: CareTeam, new_client: Any) -> None:
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.CARE_TEAM.value]))
    relatives.accept(invitation, world.relative)
    sign_in_as(client, world.patient_x.user)
    client.submit(f"/me/team/members/{kari_team.gp.id}/relatives", {"visible": ""},
                  page="/me/team/")
    rita = new_client()
    sign_in_as(rita, world.relative)
    page = rita.get(f"/relative/patients/{world.patient_x.id}/team").text
    assert "Koordinator A" in page and "Dr. Berg" not in page
    assert 'href="tel:113"' in page
    entry = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.viewer_user_id == world.relative.id)).all()[-1]
    assert entry.target is AccessTarget.CARE_TEAM


def test_a_relative_without_the_care_team_scope_gets_404(
        client: Client, world: World, kari_team: CareTeam) -> None:
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.APPOINTMENTS.value]))
    relatives.accept(invitation, world.relative)
    sign_in_as(client, world.relative)
    assert client.get(f"/relative/patients/{world.patient_x.id}/team").status_code == 404
    assert "Care team" not in client.get(f"/relative/patients/{world.patient_x.id}/").text


def test_the_care_team_scope_is_off_by_default(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/relatives/invite").text
    box = re.search(r'<input[^>]*value="care_team"[^>]*>', page)
    assert box is not None and "checked" not in box.group()


def test_other_patients_and_other_clinics_cannot_reach_the_team(
        client: Client, world: World, kari_team: CareTeam, new_client: Any) -> None:
    sign_in_as(client, world.patient_y.user)
    assert client.post(f"/me/team/members/{kari_team.gp.id}/relatives",
                       data={"csrf_token": client.csrf_token("/me/team/"),
                             "visible": ""}).status_code == 404
    nurse = new_client()
    sign_in_as(nurse, world.nurse_b)
    for url in (f"/staff/patients/{world.patient_x.id}/team",
                f"/staff/handovers/{kari_team.handover.id}",
                f"/staff/contacts/{kari_team.gp.external_contact_id}"):
        assert nurse.get(url).status_code == 404, url


# -- the responsibility invariant -----------------------------------------------------------

def test_a_member_who_holds_or_receives_an_area_cannot_be_removed(
        world: World, make: Factory, kari_team: CareTeam) -> None:
    with pytest.raises(TeamError, match="holds_area"):
        team.remove_member(kari_team.doctor, world.coordinator_a)
    nurse = team.add_staff_member(world.patient_x, make.staff(world.clinic_a, StaffRole.NURSE),
                                  "", world.doctor_a)
    handovers.propose(world.patient_x, "somatic", nurse, world.doctor_a)
    with pytest.raises(TeamError, match="receiving"):
        team.remove_member(nurse, world.coordinator_a)
    assert kari_team.doctor.removed_at is None and nurse.removed_at is None


def test_a_held_area_is_never_filled_over_only_handed_over(world: World,
                                                           kari_team: CareTeam) -> None:
    with pytest.raises(TeamError, match="taken"):
        team.fill_gap(world.patient_x, "somatic", kari_team.doctor, world.doctor_a)
    assert current_holders(world.patient_x.id)["somatic"] == kari_team.gp.id


def test_the_database_refuses_two_open_holders(world: World, kari_team: CareTeam) -> None:
    db.session.add(Responsibility(patient_id=world.patient_x.id, area_key="somatic",
                                  member_id=kari_team.doctor.id, since=utcnow()))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_acceptance_ends_the_old_holder_at_the_moment_the_new_one_starts(
        world: World, kari_team: CareTeam) -> None:
    accepted = handovers.accept(kari_team.handover, world.coordinator_a)
    rows = db.session.scalars(select(Responsibility).where(
        Responsibility.patient_id == world.patient_x.id,
        Responsibility.area_key == "medication").order_by(Responsibility.id)).all()
    old, new = rows
    assert old.until == new.since and new.until is None and new.handover_id == accepted.id
    for moment in (old.until - timedelta(microseconds=1), new.since,
                   new.since + timedelta(seconds=1)):
        holders = [r for r in rows if r.since <= moment and (r.until is None or r.until > moment)]
        assert len(holders) == 1, moment


def test_a_handover_planned_ahead_keeps_the_holder_until_that_day(
        world: World, kari_team: CareTeam) -> None:
    handovers.withdraw(kari_team.handover, world.doctor_a)
    later = utcnow().date() + timedelta(days=10)
    planned = handovers.propose(world.patient_x, "medication", kari_team.coordinator,
                                world.doctor_a, takes_effect_on=later)
    handovers.accept(planned, world.coordinator_a)
    assert current_holders(world.patient_x.id)["medication"] == kari_team.doctor.id
    [future] = team.future_responsibilities(world.patient_x.id)
    assert future.member_id == kari_team.coordinator.id
    after = future.since + timedelta(minutes=1)
    assert current_holders_at(world.patient_x.id, after)["medication"] == kari_team.coordinator.id
    with pytest.raises(TeamError, match="agreed"):
        handovers.propose(world.patient_x, "medication", kari_team.gp, world.doctor_a)


def current_holders_at(patient_id: int, moment: Any) -> dict[str, int]:
    return {r.area_key: r.member_id for r in team.current_responsibilities(patient_id, moment)}


OPERATIONS = ("add_staff", "add_contact", "remove", "fill", "propose", "accept", "decline",
              "withdraw")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
          database=None, derandomize=True)
@given(steps=st.lists(st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 20)),
                      min_size=5, max_size=25))
def test_no_sequence_of_changes_ever_leaves_a_filled_area_empty(
        app: Flask, world: World, make: Factory, steps: list[tuple[str, int]]) -> None:
    """Every path that changes membership or holders, in any order: an area that has had a
    holder always has exactly one."""
    patient = make.patient(world.clinic_a)
    staff = [world.doctor_a, world.coordinator_a, make.staff(world.clinic_a, StaffRole.NURSE)]
    contact = make.contact(world.clinic_a)
    keys = [a.key for a in areas.BUILT_IN]
    ever_filled: set[str] = set()
    for operation, n in steps:
        members = team.active_members(patient)
        open_ones = team.open_handovers(patient.id)
        try:
            if operation == "add_staff":
                team.add_staff_member(patient, staff[n % 3], "", world.doctor_a)
            elif operation == "add_contact":
                team.add_external_member(patient, contact, "", world.doctor_a)
            elif operation == "remove" and members:
                team.remove_member(members[n % len(members)], world.doctor_a)
            elif operation == "fill" and members:
                team.fill_gap(patient, keys[n % len(keys)], members[n % len(members)],
                              world.doctor_a)
            elif operation == "propose" and members:
                handovers.propose(patient, keys[n % len(keys)], members[n % len(members)],
                                  world.doctor_a)
            elif operation in ("accept", "decline", "withdraw") and open_ones:
                chosen = open_ones[n % len(open_ones)]
                {"accept": lambda h: handovers.accept(h, world.doctor_a, **(
                    {"confirmed_how": ExternalConfirmation.PHONE,
                     "confirmed_on": utcnow().date()}
                    if h.to_member.external_contact_id else {})),
                 "decline": lambda h: handovers.decline(h, world.doctor_a),
                 "withdraw": lambda h: handovers.withdraw(h, world.doctor_a)}[operation](chosen)
        except TeamError:
            db.session.rollback()
        holders = current_holders(patient.id)
        ever_filled |= set(holders)
        assert ever_filled <= set(holders), f"an area went empty after {operation}"
        for member_id in holders.values():
            assert db.session.get(TeamMember, member_id).removed_at is None  # type: ignore[union-attr]


# -- staff: gaps, members, bad input ---------------------------------------------------------

def test_gaps_are_counted_on_the_staff_home_and_the_worklist_and_red_on_the_team_page(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.doctor_a)
    gaps = team.gap_counts([world.clinic_a.id])
    assert gaps[world.patient_x.id] == len(areas.BUILT_IN) - 3
    assert gaps[world.patient_y.id] == len(areas.BUILT_IN)
    home = client.get("/staff/").text
    assert f'{sum(gaps.values())}</span> gaps in the care teams' in home
    worklist = client.get("/staff/worklist").text
    assert f"{sum(gaps.values())} areas have nobody responsible" in worklist
    page = client.get(f"/staff/patients/{world.patient_x.id}/team").text
    assert '<span class="gap">Nobody is responsible:</span> Housing' in page


def test_staff_fill_a_gap_and_the_patient_sees_it(client: Client, world: World,
                                                  kari_team: CareTeam) -> None:
    sign_in_as(client, world.doctor_a)
    url = f"/staff/patients/{world.patient_x.id}/team"
    response = client.submit(f"{url}/fill", {"area": "housing",
                                             "member": str(kari_team.coordinator.id)}, page=url)
    assert response.status_code == 302
    assert current_holders(world.patient_x.id)["housing"] == kari_team.coordinator.id
    event = db.session.scalars(select(TeamEvent).order_by(TeamEvent.id.desc())).first()
    assert event is not None and event.kind is TeamEventKind.AREA_FILLED
    assert event.by_user_id == world.doctor_a.id


@pytest.mark.parametrize(("fields", "message"), [
    ({"phone": "ring meg"}, "A phone number can only have digits"),
    ({"phone": "1234567"}, "This is not a Norwegian phone number"),
    ({"phone": "+46 70 123 45 67"}, "Only Norwegian phone numbers"),
    ({"organisation": "   "}, "Write the office or unit."),
    ({"opens_at": "16:00", "closes_at": "08:00"}, "The closing time must be after"),
    ({"opens_at": "08:00", "closes_at": ""}, "Give both the opening and the closing time"),
    ({"answers_within_days": "²"}, "Write a whole number"),
])
def test_bad_contact_details_get_a_message_and_keep_what_was_typed(
        client: Client, world: World, fields: dict[str, str], message: str) -> None:
    sign_in_as(client, world.doctor_a)
    url = f"/staff/clinics/{world.clinic_a.id}/contacts"
    typed = {"service": "gp", "organisation": "Legekontoret Øst", "name": "Åse Ødegård",
             "role": "fastlege", "phone": "22 11 22 33", "address": "Storgata 5",
             "opens_at": "08:00", "closes_at": "15:00", "answers_within_days": "1", **fields}
    response = client.submit(url, typed)
    assert response.status_code == 200 and message in response.text
    assert "Åse Ødegård" in response.text  # what was typed is still there
    assert db.session.scalar(select(func.count()).select_from(ExternalContact)) == 0


def test_a_good_contact_is_stored_with_a_callable_number(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    url = f"/staff/clinics/{world.clinic_a.id}/contacts"
    client.submit(url, {"service": "nav", "organisation": "NAV Sentrum", "phone": "55 55 33 33",
                        "open_days": ["0", "1", "2"], "opens_at": "09:00", "closes_at": "14:00"})
    contact = db.session.scalars(select(ExternalContact)).one()
    assert contact.phone == "+4755553333" and contact.open_days == [0, 1, 2]
    assert "man.–ons. 09:00–14:00" not in client.get(url).text  # English page
    assert "Mon–Wed 09:00–14:00" in client.get(url).text


def test_bad_settings_keep_what_was_typed(client: Client, world: World, make: Factory) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    sign_in_as(client, admin)
    url = f"/staff/clinics/{world.clinic_a.id}/team-settings"
    response = client.submit(url, {"call_back_days": "1", "handover_escalation_days": "7",
                                   "crisis_line_name": "Hjelpetelefonen",
                                   "crisis_line_phone": "hjelp"})
    assert "A phone number can only have digits" in response.text
    assert "Hjelpetelefonen" in response.text
    assert world.clinic_a.crisis_line_phone == ""
    good = client.submit(url, {"call_back_days": "0", "handover_escalation_days": "3",
                               "crisis_line_name": "Hjelpetelefonen",
                               "crisis_line_phone": "116 123"})
    assert good.status_code == 302
    db.session.refresh(world.clinic_a)
    assert world.clinic_a.crisis_line_phone == "116123"
    assert world.clinic_a.handover_escalation_days == 3


def test_only_clinic_admins_change_settings_and_areas(client: Client, world: World) -> None:
    sign_in_as(client, world.doctor_a)
    for url in (f"/staff/clinics/{world.clinic_a.id}/team-settings",
                f"/staff/clinics/{world.clinic_a.id}/areas"):
        assert client.get(url).status_code == 403


def test_a_clinics_own_area_is_a_gap_for_every_patient(client: Client, world: World,
                                                       make: Factory) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN)
    sign_in_as(client, admin)
    before = team.gap_counts([world.clinic_a.id])[world.patient_x.id]
    client.submit(f"/staff/clinics/{world.clinic_a.id}/areas",
                  {"label": "Ansvarsgruppe", "description": "Møtene med tjenestene"})
    assert team.gap_counts([world.clinic_a.id])[world.patient_x.id] == before + 1


# -- SMS and letters ------------------------------------------------------------------------

@pytest.mark.parametrize(("language", "word", "expected"), [
    ("nb", "TEAM", "Koordinatoren din er Koordinator A (koordinator), tlf. 22 00 00 00."),
    ("nn", "teamet mitt", "Koordinatoren din er Koordinator A (koordinator), tlf. 22 00 00 00."),
    ("en", "my team", "Your coordinator is Koordinator A (koordinator), phone 22 00 00 00."),
])
def test_team_by_sms_answers_with_the_coordinator_in_the_patients_language(
        world: World, kari_team: CareTeam, sms: CapturingSms, language: str, word: str,
        expected: str) -> None:
    world.patient_x.user.language = language
    db.session.commit()
    sms_inbound.receive(f"SM-team-{language}", world.patient_x.user.phone or "", word)
    deliver_now(OutboxMessage.purpose == MessagePurpose.REPLY)
    answer = sms.sent[-1]
    assert answer.to == world.patient_x.user.phone and expected in answer.body
    assert {"nb": "Hvis det haster", "nn": "Om det hastar", "en": "If it is urgent"}[language] \
        in answer.body
    assert not FORBIDDEN.search(answer.body) and len(answer.body) <= 160


def test_team_by_sms_without_a_coordinator_gives_the_clinic(world: World,
                                                            sms: CapturingSms) -> None:
    world.patient_x.user.language = "en"
    db.session.commit()
    sms_inbound.receive("SM-team-none", world.patient_x.user.phone or "", "TEAM")
    deliver_now(OutboxMessage.purpose == MessagePurpose.REPLY)
    assert "Call your clinic on 22 00 00 00." in sms.sent[-1].body


def test_a_letter_patient_gets_the_team_sheet_when_it_changes(
        app: Flask, world: World, make: Factory) -> None:
    patient = make.patient(world.clinic_a, "Per Papir", phone=None,
                           channels=(Channel.LETTER,), language="nb")
    coordinator = team.add_staff_member(patient, world.coordinator_a, "koordinator",
                                        world.doctor_a)
    team.fill_gap(patient, "coordinator", coordinator, world.doctor_a)
    doctor = team.add_staff_member(patient, world.doctor_a, "lege", world.doctor_a)
    team.fill_gap(patient, "medication", doctor, world.doctor_a)
    sheets = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.TEAM_SHEET)).all()
    assert len(sheets) == 1  # one letter a day, whatever the number of changes
    deliver_now(OutboxMessage.purpose == MessagePurpose.TEAM_SHEET)
    queued = letters.queued([world.clinic_a.id])
    assert [m.purpose for m in queued] == [MessagePurpose.TEAM_SHEET]
    pdf = render_letters_pdf(queued)
    body = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    body = " ".join(body.split())
    assert "Koordinator A (koordinator) - koordinatoren din" in body
    assert "Telefon 22 00 00 00" in body
    assert "Henteplanen din og foresp" in body  # the paper words for medication
    assert not FORBIDDEN.search(body), body
    assert "Klinikk A" not in body  # the health trust on the envelope, not the clinic
    assert "116 117" in body


def test_app_patients_get_no_team_letter(world: World, kari_team: CareTeam) -> None:
    world.patient_x.contact_channels = [Channel.PUSH.value, Channel.LETTER.value]
    db.session.commit()
    team.fill_gap(world.patient_x, "housing", kari_team.coordinator, world.doctor_a)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.TEAM_SHEET,
        OutboxMessage.status != MessageStatus.CANCELLED)) == 0


def test_reading_the_team_is_in_the_patients_access_log(client: Client, world: World,
                                                        kari_team: CareTeam) -> None:
    sign_in_as(client, world.doctor_a)
    client.get(f"/staff/patients/{world.patient_x.id}/team")
    entry = db.session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert entry is not None and entry.target is AccessTarget.CARE_TEAM
    assert entry.patient_id == world.patient_x.id
