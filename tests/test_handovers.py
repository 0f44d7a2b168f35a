"""Handovers: the holder stays responsible until the receiver accepts; every state change is
a row with who and when; of two answers at once one wins; waiting too long reaches the clinic
admin (issue 11)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select, update

from server.care_team import handovers, team
from server.care_team.models import (
    ExternalConfirmation,
    Handover,
    HandoverStatus,
    TeamEvent,
    TeamEventKind,
)
from server.care_team.team import TeamError
from server.extensions import db
from server.models import StaffRole, User
from server.models.base import utcnow
from tests.conftest import CareTeam, Client, Factory, World, sign_in_as


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def events(handover: Handover) -> list[tuple[TeamEventKind, int | None]]:
    return [(e.kind, e.by_user_id) for e in db.session.scalars(
        select(TeamEvent).where(TeamEvent.handover_id == handover.id).order_by(TeamEvent.id))]


def holder_of(world: World, area: str) -> int:
    found = team.holder(world.patient_x.id, area)
    assert found is not None
    return found.member_id


def test_until_accepted_the_holder_stays_responsible_and_both_see_it(
        client: Client, world: World, kari_team: CareTeam, new_client: Any) -> None:
    assert holder_of(world, "medication") == kari_team.doctor.id
    sign_in_as(client, world.doctor_a)  # the holder
    page = client.get("/staff/worklist").text
    assert "your handover of Medication and take-home waits for an answer" in page
    receiver = new_client()
    sign_in_as(receiver, world.coordinator_a)
    page = receiver.get("/staff/worklist").text
    assert "you are asked to take over Medication and take-home" in page
    # The receiver accepts; only now does responsibility move.
    url = f"/staff/handovers/{kari_team.handover.id}"
    assert receiver.submit(f"{url}/accept", page=url).status_code == 302
    assert holder_of(world, "medication") == kari_team.coordinator.id
    assert events(kari_team.handover) == [
        (TeamEventKind.HANDOVER_PROPOSED, world.doctor_a.id),
        (TeamEventKind.HANDOVER_ACCEPTED, world.coordinator_a.id)]


def test_only_the_receiver_may_accept_or_decline(client: Client, world: World,
                                                 kari_team: CareTeam, make: Factory) -> None:
    url = f"/staff/handovers/{kari_team.handover.id}"
    for user in (world.doctor_a, make.staff(world.clinic_a, StaffRole.NURSE)):
        sign_in_as(client, user)
        assert client.submit(f"{url}/accept", page=url).status_code == 403
        assert client.submit(f"{url}/decline", page=url).status_code == 403
        assert "I accept" not in client.get(url).text
    db.session.refresh(kari_team.handover)
    assert kari_team.handover.status is HandoverStatus.PROPOSED


def test_staff_of_another_clinic_and_patients_get_404(client: Client, world: World,
                                                      kari_team: CareTeam) -> None:
    url = f"/staff/handovers/{kari_team.handover.id}"
    sign_in_as(client, world.nurse_b)
    assert client.get(url).status_code == 404
    sign_in_as(client, world.patient_x.user)
    assert client.get(url).status_code == 404


def test_declining_keeps_the_holder_and_records_the_reason(
        client: Client, world: World, kari_team: CareTeam) -> None:
    sign_in_as(client, world.coordinator_a)
    url = f"/staff/handovers/{kari_team.handover.id}"
    client.submit(f"{url}/decline", {"decline-note": "Jeg har ikke kapasitet nå."}, page=url)
    db.session.refresh(kari_team.handover)
    assert kari_team.handover.status is HandoverStatus.DECLINED
    assert kari_team.handover.decision_note == "Jeg har ikke kapasitet nå."
    assert holder_of(world, "medication") == kari_team.doctor.id


def test_the_holder_or_a_coordinator_may_withdraw_but_not_anyone(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    url = f"/staff/handovers/{kari_team.handover.id}"
    sign_in_as(client, make.staff(world.clinic_a, StaffRole.NURSE))
    assert client.submit(f"{url}/withdraw", page=url).status_code == 403
    sign_in_as(client, world.doctor_a)
    assert client.submit(f"{url}/withdraw", page=url).status_code == 302
    db.session.refresh(kari_team.handover)
    assert kari_team.handover.status is HandoverStatus.WITHDRAWN
    assert (TeamEventKind.HANDOVER_WITHDRAWN, world.doctor_a.id) in events(kari_team.handover)


def test_a_staff_member_may_hand_over_only_what_they_hold(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    nurse = make.staff(world.clinic_a, StaffRole.NURSE)
    sign_in_as(client, nurse)
    url = f"/staff/patients/{world.patient_x.id}/team/handover"
    page = client.get(url).text
    assert "There is nothing you can hand over" in page
    response = client.submit(url, {"area": "somatic", "to": f"member:{kari_team.doctor.id}"})
    assert response.status_code == 200 and "Not a valid choice" not in response.text
    assert team.open_handovers(world.patient_x.id) == [kari_team.handover]


def test_a_coordinator_hands_over_to_someone_new_who_joins_the_team(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    nurse = make.staff(world.clinic_a, StaffRole.NURSE, name="Sykepleier Ny")
    sign_in_as(client, world.coordinator_a)
    url = f"/staff/patients/{world.patient_x.id}/team/handover"
    response = client.submit(url, {"area": "somatic", "to": f"staff:{nurse.id}",
                                   "note": "Fastlegen slutter."})
    assert response.status_code == 302
    [new] = [h for h in team.open_handovers(world.patient_x.id) if h.area_key == "somatic"]
    assert new.to_member.staff_user_id == nurse.id and new.from_member_id == kari_team.gp.id
    assert holder_of(world, "somatic") == kari_team.gp.id


def test_a_bad_proposal_keeps_what_was_typed_and_adds_nobody(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    nurse = make.staff(world.clinic_a, StaffRole.NURSE)
    sign_in_as(client, world.coordinator_a)
    url = f"/staff/patients/{world.patient_x.id}/team/handover"
    response = client.submit(url, {"area": "somatic", "to": f"staff:{nurse.id}",
                                   "takes_effect_on": "01.01.2020", "note": "Skrevet tekst"})
    assert response.status_code == 200 and "Choose a day from today" in response.text
    assert "Skrevet tekst" in response.text
    assert all(m.staff_user_id != nurse.id for m in team.active_members(world.patient_x))


def test_an_external_receiver_is_accepted_by_the_staff_member_who_spoke_to_them(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    other_gp = team.add_external_member(world.patient_x, make.contact(
        world.clinic_a, organisation="Legesenteret Nord", name="Dr. Nord"), "", world.doctor_a)
    proposal = handovers.propose(world.patient_x, "somatic", other_gp, world.coordinator_a)
    sign_in_as(client, world.coordinator_a)
    assert "record the answer of Legesenteret Nord" in client.get("/staff/worklist").text
    url = f"/staff/handovers/{proposal.id}"
    missing = client.submit(f"{url}/accept", {"confirmed_on": ""}, page=url)
    assert missing.status_code == 200 and "Record how they said yes." in missing.text
    today = utcnow().date().strftime("%d.%m.%Y")
    client.submit(f"{url}/accept", {"confirmed_how": "phone", "confirmed_on": today}, page=url)
    db.session.refresh(proposal)
    assert proposal.status is HandoverStatus.ACCEPTED
    assert proposal.confirmed_how is ExternalConfirmation.PHONE
    assert proposal.decided_by_id == world.coordinator_a.id
    assert holder_of(world, "somatic") == other_gp.id


def test_two_answers_at_once_exactly_one_wins(world: World, kari_team: CareTeam) -> None:
    stale = db.session.get(Handover, kari_team.handover.id)
    assert stale is not None
    handovers.decline(kari_team.handover, world.coordinator_a, "Nei")
    db.session.execute(update(Handover).where(Handover.id == stale.id).values(
        status=HandoverStatus.PROPOSED).execution_options(synchronize_session=False))
    db.session.commit()
    # Now two people act on the same open handover; the conditional UPDATE lets one through.
    results: list[str] = []
    errors: list[str] = []
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Each thread loads its own rows: objects of the test's session must not cross threads.
    handover_id, coordinator_id, doctor_id = stale.id, world.coordinator_a.id, world.doctor_a.id

    def act(kind: str) -> None:
        with app.app_context():
            found = db.session.get(Handover, handover_id)
            assert found is not None
            try:
                if kind == "accept":
                    handovers.accept(found, db.session.get_one(User, coordinator_id))
                else:
                    handovers.withdraw(found, db.session.get_one(User, doctor_id))
                results.append(kind)
            except handovers.HandoverConflict as exc:
                errors.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(k,)) for k in ("accept", "withdraw")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    db.session.expire_all()
    rows = team.current_responsibilities(world.patient_x.id)
    assert len([r for r in rows if r.area_key == "medication"]) == 1


def test_the_loser_of_two_answers_is_told_what_happened(client: Client, world: World,
                                                        kari_team: CareTeam) -> None:
    handovers.withdraw(kari_team.handover, world.doctor_a)
    sign_in_as(client, world.coordinator_a)
    url = f"/staff/handovers/{kari_team.handover.id}"
    # The page was open before the withdrawal; the answer posted now meets a closed handover.
    response = client.submit(f"{url}/accept", page=url)
    assert response.status_code == 403 or "withdrawn" in response.text
    with pytest.raises(handovers.HandoverConflict, match="withdrawn"):
        handovers.accept(kari_team.handover, world.coordinator_a)


def test_a_handover_waiting_too_long_goes_to_the_clinic_admin(
        client: Client, world: World, kari_team: CareTeam, make: Factory) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    assert handovers.escalate_overdue() == 0
    kari_team.handover.proposed_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert handovers.escalate_overdue() == 1
    assert handovers.escalate_overdue() == 0  # once
    assert (TeamEventKind.HANDOVER_ESCALATED, None) in events(kari_team.handover)
    sign_in_as(client, admin)
    assert "a handover of Medication and take-home has waited too long" in \
        client.get("/staff/worklist").text


def test_the_escalation_time_is_the_clinics_own(world: World, kari_team: CareTeam) -> None:
    world.clinic_a.handover_escalation_days = 14
    kari_team.handover.proposed_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert handovers.escalate_overdue() == 0
    kari_team.handover.proposed_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert handovers.escalate_overdue() == 1


def test_the_worker_sweep_escalates(world: World, kari_team: CareTeam) -> None:
    from server.notify.worker import Worker

    kari_team.handover.proposed_at = utcnow() - timedelta(days=30)
    db.session.commit()
    Worker(name="test").sweep()
    db.session.refresh(kari_team.handover)
    assert kari_team.handover.escalated_at is not None


def test_one_open_handover_per_area(world: World, kari_team: CareTeam) -> None:
    with pytest.raises(TeamError, match="open"):
        handovers.propose(world.patient_x, "medication", kari_team.gp, world.coordinator_a)
