"""Relatives: each scope against each relative page and action, immediate revocation,
end dates, and the access log the patient reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    MessagePurpose,
    OutboxMessage,
    RelativeAccess,
    RelativeObservation,
    RelativeScope,
    UserSession,
)
from server.services import relatives
from server.services.local_time import oslo_today
from tests.conftest import Client, Factory, World, deliver_now, sign_in_as


def give(world: World, scopes: list[str], ends_on: Any = None) -> RelativeAccess:
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000011", scopes=scopes, ends_on=ends_on))
    return relatives.accept(invitation, world.relative)


#: Every relative page and action, with the scope it needs (None: any active access).
PAGES: list[tuple[str, str, RelativeScope | None]] = [
    ("GET", "/relative/patients/{pid}/", None),
    ("GET", "/relative/patients/{pid}/appointments", RelativeScope.APPOINTMENTS),
    ("GET", "/relative/patients/{pid}/take-home", RelativeScope.TAKE_HOME),
    ("GET", "/relative/patients/{pid}/pickup-plan", RelativeScope.PICKUP_PLAN),
    ("GET", "/relative/patients/{pid}/observations", RelativeScope.OBSERVATIONS),
    ("POST", "/relative/patients/{pid}/observations", RelativeScope.OBSERVATIONS),
]


def call(client: Client, method: str, url: str, world: World) -> Any:
    if method == "GET":
        return client.get(url)
    token = client.csrf_token("/relative/")
    return client.post(url, data={"csrf_token": token, "kind": "worry", "text": "Bekymret"})


@pytest.mark.parametrize("scope", [s.value for s in RelativeScope])
def test_each_scope_opens_exactly_its_own_pages(world: World, make: Factory, client: Client,
                                                scope: str) -> None:
    make.appointment(world.patient_x, starts_in=timedelta(days=3))
    give(world, [scope])
    sign_in_as(client, world.relative)
    home = client.get(f"/relative/patients/{world.patient_x.id}/").text
    for method, template, needed in PAGES:
        url = template.format(pid=world.patient_x.id)
        response = call(client, method, url, world)
        if needed is None or needed.value == scope:
            assert response.status_code in (200, 302), f"{scope}: {method} {url}"
        else:
            assert response.status_code == 404, f"{scope} reached {method} {url}"
            # No link, and no hint, to what is hidden.
            assert url not in home
    observations = db.session.scalar(select(func.count()).select_from(RelativeObservation))
    assert observations == (1 if scope == "observations" else 0)
    # Patient pages and staff pages are never the relative's.
    for url in ("/me/", "/me/appointments/", "/me/take-home/", f"/staff/patients/"
                f"{world.patient_x.id}", "/staff/worklist"):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("scope", [s.value for s in RelativeScope])
def test_reminders_and_outreach_follow_their_scopes(world: World, make: Factory,
                                                    scope: str) -> None:
    from server.models import Attendance, WorkItem, WorkKind
    from server.services import appointments

    access = give(world, [scope])
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    deliver_now(OutboxMessage.purpose == MessagePurpose.REMINDER,
                OutboxMessage.appointment_id == appointment.id)
    copies = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.recipient_user_id == world.relative.id)).all()
    assert (len(copies) > 0) == (scope == "reminders")
    assert all(c.sent_to == world.relative.phone for c in copies if c.sent_to)
    appointment.starts_at = appointment.starts_at - timedelta(days=4)
    db.session.commit()
    appointments.mark_attendance(appointment, Attendance.MISSED, world.doctor_a)
    outreach = db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.OUTREACH)).one()
    assert ("relative" in outreach.details["methods"]) == (scope == "no_show_contact")
    assert access.allows(RelativeScope(scope), oslo_today())


def test_nothing_without_an_access_and_nothing_of_another_patient(
        world: World, client: Client) -> None:
    give(world, [s.value for s in RelativeScope])
    sign_in_as(client, world.relative)
    for pid in (world.patient_y.id, world.patient_b.id, 999_999):
        for method, template, _ in PAGES:
            assert call(client, method, template.format(pid=pid), world).status_code == 404


def test_revoking_ends_the_open_session_at_once(world: World, client: Client,
                                                new_client: Any) -> None:
    access = give(world, ["appointments", "observations"])
    sign_in_as(client, world.relative)
    url = f"/relative/patients/{world.patient_x.id}/appointments"
    assert client.get(url).status_code == 200
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    patient.submit(f"/me/relatives/access/{access.id}/revoke", page="/me/relatives/")
    db.session.refresh(access)
    assert access.revoked_at is not None and access.revoked_by == "patient"
    # The relative's very next request is refused: the session is over.
    after = client.get(url)
    assert after.status_code == 302 and "/sign-in" in after.headers["Location"]
    assert "Your access in Følge has changed" in client.get(after.headers["Location"]).text
    open_sessions = db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == world.relative.id, UserSession.ended_at.is_(None)))
    assert open_sessions == 0
    # Signing in again does not bring anything back.
    sign_in_as(client, world.relative)
    assert client.get(url).status_code == 404
    assert "Xena Pasient" not in client.get("/relative/").text
    # The relative is told, without a reason.
    ended = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.ACCESS_ENDED)).one()
    assert ended.recipient_user_id == world.relative.id


def test_a_scope_taken_away_is_gone_on_the_next_click(world: World, client: Client,
                                                      new_client: Any) -> None:
    access = give(world, ["appointments", "pickup_plan"])
    sign_in_as(client, world.relative)
    assert client.get(f"/relative/patients/{world.patient_x.id}/pickup-plan").status_code == 200
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    patient.submit(f"/me/relatives/access/{access.id}", {"scopes": "appointments"})
    assert client.get(f"/relative/patients/{world.patient_x.id}/pickup-plan").status_code == 404
    assert client.get(f"/relative/patients/{world.patient_x.id}/appointments").status_code == 200


def test_access_stops_by_itself_when_the_end_date_passes(world: World, client: Client) -> None:
    access = give(world, ["appointments"], ends_on=oslo_today() + timedelta(days=1))
    sign_in_as(client, world.relative)
    url = f"/relative/patients/{world.patient_x.id}/appointments"
    assert client.get(url).status_code == 200
    access.ends_on = oslo_today() - timedelta(days=1)  # time passes; nobody acts
    db.session.commit()
    assert client.get(url).status_code == 404
    assert "Xena Pasient" not in client.get("/relative/").text


def test_each_relative_view_is_logged_and_the_patient_sees_it(world: World, make: Factory,
                                                              client: Client,
                                                              new_client: Any) -> None:
    make.appointment(world.patient_x, starts_in=timedelta(days=3))
    give(world, ["appointments", "pickup_plan"])
    sign_in_as(client, world.relative)
    client.get(f"/relative/patients/{world.patient_x.id}/appointments")
    client.get(f"/relative/patients/{world.patient_x.id}/pickup-plan")
    client.get(f"/relative/patients/{world.patient_x.id}/take-home")  # 404: not logged
    entries = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.viewer_user_id == world.relative.id)).all()
    assert sorted(e.target.value for e in entries) == ["appointment", "pickup_plan"]
    assert all(e.viewer_role == "relative" and e.clinic_id is None for e in entries)
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    page = patient.get("/me/relatives/").text
    assert "Rita Pårørende" in page and "your pickup plan" in page
    assert "one of your appointments" in page
    assert "your pickup plan" in patient.get("/me/who-has-seen").text


def test_the_patient_sees_who_has_access_to_what_and_since_when(world: World,
                                                                client: Client) -> None:
    give(world, ["appointments", "observations"])
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/relatives/").text
    assert "Rita" in page and "søster" in page and "Since" in page
    assert "See my upcoming appointments" in page
    assert "Send what they notice to my care team" in page
    assert "See my pickup plan" not in page


def test_reminder_copies_not_yet_sent_stop_when_access_ends(world: World, make: Factory) -> None:
    from server.models import MessageStatus
    from server.models.base import utcnow

    access = give(world, ["reminders"])
    appointment = make.appointment(world.patient_x, starts_in=timedelta(days=3))
    message = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.REMINDER,
        OutboxMessage.appointment_id == appointment.id)).first()
    assert message is not None
    relatives.fan_out_reminder(message)  # as the worker does, e.g. at night (quiet hours)
    db.session.commit()
    copy = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.recipient_user_id == world.relative.id)).one()
    assert copy.status is MessageStatus.PENDING
    relatives.change(access, ["appointments"], None)  # reminders taken away
    db.session.refresh(copy)
    assert copy.status is MessageStatus.CANCELLED
    # A copy made again and then revoked: cancelled too, and never delivered.
    relatives.change(access, ["reminders"], None)
    copy.status = MessageStatus.PENDING
    db.session.commit()
    relatives.revoke(access, "patient")
    db.session.refresh(copy)
    assert copy.status is MessageStatus.CANCELLED
    # Even a copy the revocation missed is dropped by the worker when it comes due.
    copy.status = MessageStatus.PENDING
    copy.due_at = utcnow()
    db.session.commit()
    deliver_now(OutboxMessage.id == copy.id)
    db.session.refresh(copy)
    assert copy.status is MessageStatus.CANCELLED and copy.sent_at is None


def test_a_code_asked_for_on_one_invitation_cannot_accept_another(
        world: World, new_client: Any, sms: Any) -> None:
    victim = relatives.invite(world.patient_x, relatives.InviteInput(
        "Victim", "venn", phone="+4790000021", scopes=["appointments"]))
    own = relatives.invite(world.patient_y, relatives.InviteInput(
        "Me", "venn", email="meg@example.no", scopes=["appointments"]))
    from server.services.relatives import RelativeError

    attempt = relatives.start_accept(own, "900 00 022")
    code = sms.last_code("+4790000022")
    with pytest.raises(RelativeError):
        relatives.finish_accept(victim, attempt, code)
    db.session.refresh(victim)
    assert victim.status.value == "pending"
    assert db.session.scalars(select(RelativeAccess).where(
        RelativeAccess.patient_id == world.patient_x.id)).all() == []
