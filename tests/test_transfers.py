"""Moving a patient to another clinic: nothing moves before the receiving clinic accepts,
then everything moves in one transaction, and each clinic's access follows (issue 11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from server.care_team import areas, team, transfers
from server.care_team.models import (
    ExternalContact,
    HandoverStatus,
    TeamMember,
    Transfer,
    TransferStatus,
)
from server.care_team.team import TeamError
from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    ConsentMethod,
    MessagePurpose,
    OutboxMessage,
    PatientProfile,
    RelativeAccess,
    RelativeScope,
    StaffRole,
    TakeHomeRequest,
    WorkItem,
    WorkKind,
    WorkStatus,
)
from server.services import relatives, take_home
from server.services.local_time import oslo_today
from tests.conftest import CareTeam, Client, Factory, World, sign_in_as


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


@pytest.fixture
def receiving(world: World, make: Factory) -> dict[str, Any]:
    """Clinic B's doctor and coordinator (the nurse_b of the world is there too)."""
    return {"doctor": make.staff(world.clinic_b, StaffRole.DOCTOR, name="Lege B"),
            "coordinator": make.staff(world.clinic_b, StaffRole.COORDINATOR, name="Koord B")}


def propose(world: World, by: Any = None) -> Transfer:
    return transfers.propose(world.patient_x, transfers.ProposalInput(
        world.clinic_b.id, oslo_today() + timedelta(days=7), ConsentMethod.IN_PERSON,
        oslo_today(), "Flytter til Vestbyen."), by or world.doctor_a)


def count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_the_proposal_tells_the_patient_and_moves_nothing(
        client: Client, world: World, kari_team: CareTeam, receiving: dict[str, Any]) -> None:
    moving = propose(world)
    assert world.patient_x.clinic_id == world.clinic_a.id
    notice = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.TRANSFER)).one()
    assert notice.template == "transfer_proposed" and notice.patient_id == world.patient_x.id
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/").text
    assert "Your follow-up is being moved to a clinic at Helse Test HF" in page
    assert "Your clinic stays responsible until the new clinic has said yes." in page
    assert moving.status is TransferStatus.PROPOSED


def test_the_patient_sees_how_the_take_home_rules_differ(
        client: Client, world: World, kari_team: CareTeam, receiving: dict[str, Any],
        make: Factory) -> None:
    admin_b = make.staff(world.clinic_b, StaffRole.CLINIC_ADMIN)
    take_home.save_rules(world.clinic_b, take_home.RulesInput(
        rules_text="", notice_days=21, usual_max_days=7,
        allowed_places=list(take_home.PickupPlace)), admin_b)
    propose(world)
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/").text
    assert "At your new clinic, take-home requests need 21 days' notice (now 14)." in page
    assert "one request usually covers at most 7 days (now 14)" in page


def test_policy_before_acceptance_the_receiving_clinic_sees_only_the_proposal(
        client: Client, world: World, receiving: dict[str, Any],
        things: dict[str, Any]) -> None:
    moving = transfers.open_transfer(world.patient_x.id)
    assert moving is not None  # made by the things fixture, to clinic C
    transfers.withdraw(moving, world.doctor_a)
    moving = propose(world)
    sign_in_as(client, receiving["doctor"])
    page = client.get(f"/staff/transfers/{moving.id}")
    assert page.status_code == 200 and "Xena Pasient" in page.text and "Accept the move" in page.text
    assert "Consent" not in page.text  # the sending clinic's record, not theirs
    for url in (f"/staff/patients/{world.patient_x.id}",
                f"/staff/patients/{world.patient_x.id}/team",
                f"/staff/appointments/{things['appointment_id']}",
                f"/staff/take-home/{things['request_id']}"):
        assert client.get(url).status_code == 404, url
    entry = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.viewer_user_id == receiving["doctor"].id)).one()
    assert entry.target is AccessTarget.TRANSFER and entry.clinic_id == world.clinic_b.id


def test_acceptance_moves_everything_in_one_transaction_table_by_table(
        world: World, kari_team: CareTeam, receiving: dict[str, Any], make: Factory) -> None:
    patient = world.patient_x
    open_request = make.take_home(patient, starts_in_days=40)
    decided = take_home.decide(make.take_home(patient, starts_in_days=60),
                               take_home.DecisionInput(take_home.Outcome.APPROVE, "Greit."),
                               world.doctor_a)
    db.session.add(WorkItem(clinic_id=world.clinic_a.id, patient_id=patient.id,
                            kind=WorkKind.ANSWER))
    invitation = relatives.invite(patient, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.APPOINTMENTS.value]))
    access = relatives.accept(invitation, world.relative)
    moving = propose(world)
    transfers.accept(moving, receiving["doctor"], receiving["doctor"].id,
                     receiving["coordinator"].id)
    db.session.expire_all()
    # patient_profile
    assert db.session.get(PatientProfile, patient.id).clinic_id == world.clinic_b.id  # type: ignore[union-attr]
    # work_item: open work moves, done work stays where it was done
    assert count(WorkItem, WorkItem.patient_id == patient.id, WorkItem.status == WorkStatus.OPEN,
                 WorkItem.clinic_id == world.clinic_a.id) == 0
    # take_home_request: undecided ones move; decisions stay with the clinic that made them
    assert db.session.get(TakeHomeRequest, open_request.id).clinic_id == world.clinic_b.id  # type: ignore[union-attr]
    assert db.session.get(TakeHomeRequest, decided.id).clinic_id == world.clinic_a.id  # type: ignore[union-attr]
    # relative_access: paused until the patient confirms again
    assert db.session.get(RelativeAccess, access.id).paused_at is not None  # type: ignore[union-attr]
    assert relatives.access_to(world.relative, patient.id) is None
    # handover: the open one is withdrawn
    db.session.refresh(kari_team.handover)
    assert kari_team.handover.status is HandoverStatus.WITHDRAWN
    # team_member: clinic A's staff left; clinic B's doctor and coordinator joined; the GP
    # stays, now in clinic B's directory
    members = team.active_members(patient)
    staff_ids = {m.staff_user_id for m in members if m.staff_user_id}
    assert staff_ids == {receiving["doctor"].id, receiving["coordinator"].id}
    gp = next(m for m in members if m.external_contact_id)
    assert gp.clinic_id == world.clinic_b.id
    assert db.session.get(ExternalContact, gp.external_contact_id).clinic_id == world.clinic_b.id  # type: ignore[union-attr, arg-type]
    # responsibility: no area that had a holder is empty; the named people hold the clinic's
    holders = {r.area_key: r.member_id for r in team.current_responsibilities(patient.id)}
    by_user = {m.id: m.staff_user_id for m in members}
    assert by_user[holders[areas.MEDICATION]] == receiving["doctor"].id
    assert by_user[holders[areas.COORDINATOR]] == receiving["coordinator"].id
    assert holders["somatic"] == gp.id
    # outbox: the patient is told it has moved
    assert count(OutboxMessage, OutboxMessage.template == "transfer_done") == 1


def test_a_failure_in_any_step_rolls_every_step_back(
        world: World, kari_team: CareTeam, receiving: dict[str, Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    moving = propose(world)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(transfers, "_move_team", broken)  # after patient and work moved
    with pytest.raises(RuntimeError):
        transfers.accept(moving, receiving["doctor"], receiving["doctor"].id,
                         receiving["coordinator"].id)
    db.session.expire_all()
    assert db.session.get(PatientProfile, world.patient_x.id).clinic_id == world.clinic_a.id  # type: ignore[union-attr]
    assert db.session.get(Transfer, moving.id).status is TransferStatus.PROPOSED  # type: ignore[union-attr]
    assert {m.staff_user_id for m in team.active_members(world.patient_x)} >= {
        world.doctor_a.id, world.coordinator_a.id}
    assert count(OutboxMessage, OutboxMessage.template == "transfer_done") == 0


def test_policy_after_acceptance_the_sending_clinic_reads_only_its_archive(
        client: Client, world: World, kari_team: CareTeam, receiving: dict[str, Any],
        make: Factory, new_client: Any) -> None:
    before = make.appointment(world.patient_x)
    moving = propose(world)
    transfers.accept(moving, receiving["doctor"], receiving["doctor"].id,
                     receiving["coordinator"].id)
    sign_in_as(client, receiving["doctor"])
    new_one = client.submit(f"/staff/patients/{world.patient_x.id}/appointments/new", {
        "day": (oslo_today() + timedelta(days=5)).isoformat(), "at": "10:00", "duration": "30",
        "service": "clinic", "service_name": "Vestbyen", "meeting": "in_person"})
    assert new_one.status_code == 302
    appointment_url = new_one.headers["Location"]
    assert client.get(appointment_url).status_code == 200
    old = new_client()
    sign_in_as(old, world.doctor_a)
    for url in (appointment_url, f"/staff/patients/{world.patient_x.id}",
                f"/staff/patients/{world.patient_x.id}/team",
                f"/staff/appointments/{before.id}"):
        assert old.get(url).status_code == 404, url
    archive = old.get(f"/staff/former-patients/{world.patient_x.id}")
    assert archive.status_code == 200 and "read only" in archive.text
    assert "Vestbyen" not in archive.text  # nothing from after the move
    entry = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.viewer_user_id == world.doctor_a.id).order_by(
        AccessLogEntry.id.desc())).first()
    assert entry is not None and entry.target is AccessTarget.ARCHIVE
    assert entry.clinic_id == world.clinic_a.id
    # A clinic that never had the patient has no archive either.
    stranger = new_client()
    sign_in_as(stranger, world.nurse_b)
    assert stranger.get(f"/staff/former-patients/{world.patient_x.id}").status_code == 404


def test_relatives_see_nothing_until_the_patient_confirms_again(
        client: Client, world: World, kari_team: CareTeam, receiving: dict[str, Any],
        new_client: Any) -> None:
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.APPOINTMENTS.value]))
    access = relatives.accept(invitation, world.relative)
    transfers.accept(propose(world), receiving["doctor"], receiving["doctor"].id,
                     receiving["coordinator"].id)
    rita = new_client()
    sign_in_as(rita, world.relative)
    url = f"/relative/patients/{world.patient_x.id}/appointments"
    assert rita.get(url).status_code == 404
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/relatives/").text
    assert "Paused because you moved to a new clinic." in page
    client.submit(f"/me/relatives/access/{access.id}/confirm", page="/me/relatives/")
    assert rita.get(url).status_code == 200


def test_only_doctors_and_coordinators_propose_and_only_the_receiver_accepts(
        client: Client, world: World, kari_team: CareTeam, receiving: dict[str, Any],
        make: Factory) -> None:
    nurse = make.staff(world.clinic_a, StaffRole.NURSE)
    sign_in_as(client, nurse)
    assert client.get(f"/staff/patients/{world.patient_x.id}/transfer").status_code == 403
    moving = propose(world)
    url = f"/staff/transfers/{moving.id}"
    sign_in_as(client, world.doctor_a)  # the sending side cannot accept its own proposal
    assert client.submit(f"{url}/accept", {"doctor": str(receiving["doctor"].id),
                                           "coordinator": str(receiving["coordinator"].id)},
                         page=url).status_code == 403
    sign_in_as(client, world.nurse_b)  # a nurse of the receiving clinic may read, not accept
    assert client.get(url).status_code == 200
    assert client.submit(f"{url}/accept", {}, page=url).status_code == 403
    db.session.refresh(moving)
    assert moving.status is TransferStatus.PROPOSED


def test_acceptance_needs_the_receiving_clinics_doctor_and_coordinator(
        client: Client, world: World, kari_team: CareTeam, receiving: dict[str, Any]) -> None:
    moving = propose(world)
    with pytest.raises(TeamError, match="no_doctor"):
        transfers.accept(moving, receiving["doctor"], world.doctor_a.id,  # of the other clinic
                         receiving["coordinator"].id)
    with pytest.raises(TeamError, match="no_coordinator"):
        transfers.accept(moving, receiving["doctor"], receiving["doctor"].id, None)
    db.session.refresh(moving)
    assert moving.status is TransferStatus.PROPOSED


def test_declining_needs_a_reason_and_keeps_the_patient(world: World, kari_team: CareTeam,
                                                        receiving: dict[str, Any]) -> None:
    moving = propose(world)
    with pytest.raises(TeamError, match="no_reason"):
        transfers.decline(moving, receiving["doctor"], "  ")
    transfers.decline(moving, receiving["doctor"], "Vi har ikke plass før i mars.")
    db.session.refresh(moving)
    assert moving.status is TransferStatus.DECLINED
    assert world.patient_x.clinic_id == world.clinic_a.id


def test_two_answers_to_one_move_only_one_wins(world: World, kari_team: CareTeam,
                                               receiving: dict[str, Any]) -> None:
    moving = propose(world)
    transfers.decline(moving, receiving["doctor"], "Nei.")
    with pytest.raises(transfers.TransferConflict):
        transfers.accept(moving, receiving["doctor"], receiving["doctor"].id,
                         receiving["coordinator"].id)
    assert world.patient_x.clinic_id == world.clinic_a.id


@pytest.mark.parametrize(("fields", "message"), [
    ({"proposed_date": "01.01.2020"}, "Choose a day from today on."),
    ({"consent_on": (oslo_today() + timedelta(days=3)).isoformat()}, "today or earlier"),
    ({"to_clinic": ""}, "Not a valid choice"),
])
def test_a_bad_proposal_gets_a_message_and_keeps_the_note(
        client: Client, world: World, kari_team: CareTeam, fields: dict[str, str],
        message: str) -> None:
    sign_in_as(client, world.doctor_a)
    url = f"/staff/patients/{world.patient_x.id}/transfer"
    data = {"to_clinic": str(world.clinic_b.id),
            "proposed_date": (oslo_today() + timedelta(days=7)).isoformat(),
            "consent_method": "in_person", "consent_on": oslo_today().isoformat(),
            "note": "Flytter til søsteren sin.", **fields}
    response = client.submit(url, data)
    if message == "Not a valid choice":
        assert response.status_code == 200 and "Choose another clinic" in response.text
    else:
        assert response.status_code == 200 and message in response.text
    assert "Flytter til søsteren sin." in response.text
    assert count(Transfer, Transfer.patient_id == world.patient_x.id) == 0


def test_the_move_is_in_the_team_history(client: Client, world: World, kari_team: CareTeam,
                                         receiving: dict[str, Any]) -> None:
    transfers.accept(propose(world), receiving["doctor"], receiving["doctor"].id,
                     receiving["coordinator"].id)
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/team/history").text
    assert "Lege B" in page and "Doktor A" in page  # before and after the move
    assert db.session.scalar(select(func.count()).select_from(TeamMember).where(
        TeamMember.removed_at.is_not(None))) >= 2
