"""My goals: the patient's words, the team's measures with one responsible member and a date,
notes and statuses with reasons; suggestions the patient accepts or declines."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget
from server.plans import goals
from server.plans.models import Goal
from server.services.local_time import oslo_today
from tests.conftest import CareTeam, Client, Factory, World, sign_in_as


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def test_the_patient_writes_orders_and_updates_goals(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    client.submit("/me/goals", {"text": "Få en fast bolig"})
    client.submit("/me/goals", {"text": "Begynne å jobbe litt"})
    empty = client.submit("/me/goals", {"text": "  "})
    assert "Write the goal in a few words." in empty.text
    page = text(client.get("/me/goals"))
    assert page.index("Få en fast bolig") < page.index("Begynne å jobbe litt")
    second = db.session.scalars(select(Goal).where(Goal.text == "Begynne å jobbe litt")).one()
    client.submit(f"/me/goals/{second.id}/move", {"direction": "up"}, page="/me/goals")
    page = text(client.get("/me/goals"))
    assert page.index("Begynne å jobbe litt") < page.index("Få en fast bolig")
    client.submit(f"/me/goals/{second.id}", {"form": "status", "status": "stuck",
                                              "reason": "Ingen svar fra NAV ennå"})
    client.submit(f"/me/goals/{second.id}", {"form": "note", "note": "Ringte NAV i dag."})
    page = text(client.get(f"/me/goals/{second.id}"))
    assert "Stuck Ingen svar fra NAV ennå" in page and "Ringte NAV i dag." in page
    long = client.submit(f"/me/goals/{second.id}", {"form": "note", "note": "x" * 1001})
    assert long.status_code == 200 and "x" * 1001 in long.text  # kept, with the message


def test_staff_add_measures_with_a_responsible_member_and_a_date(
        client: Client, world: World, kari_team: CareTeam, new_client) -> None:  # type: ignore[no-untyped-def]
    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    sign_in_as(client, world.doctor_a)
    url = f"/staff/goals/{goal.id}/measure"
    page = f"/staff/patients/{world.patient_x.id}/goals"
    past = client.submit(url, {"text": "Søke kommunal bolig", "member": str(kari_team.coordinator.id),
                               "due_on": (oslo_today() - timedelta(days=1)).isoformat()},
                         page=page)
    assert "The date has passed" in past.text and "Søke kommunal bolig" in past.text
    nobody = client.submit(url, {"text": "Søke kommunal bolig", "member": "",
                                 "due_on": (oslo_today() + timedelta(days=14)).isoformat()},
                           page=page)
    assert "Choose who in the care team is responsible." in nobody.text
    done = client.submit(url, {"text": "Søke kommunal bolig",
                               "member": str(kari_team.coordinator.id),
                               "due_on": (oslo_today() + timedelta(days=14)).isoformat()},
                         page=page)
    assert done.status_code == 302
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    mine = text(patient.get("/me/goals"))
    assert "Søke kommunal bolig – " in mine and "koordinator" in mine
    assert AccessTarget.GOALS in set(db.session.scalars(select(AccessLogEntry.target).where(
        AccessLogEntry.viewer_user_id == world.doctor_a.id)))


def test_a_suggested_goal_counts_once_the_patient_accepts(client: Client, world: World,
                                                         new_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, world.doctor_a)
    client.submit(f"/staff/patients/{world.patient_x.id}/goals", {"text": "Mindre angst"})
    suggested = db.session.scalars(select(Goal)).one()
    assert suggested.state == "suggested"
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    page = text(patient.get("/me/goals"))
    assert "Your team suggests a goal Mindre angst" in page
    patient.submit(f"/me/goals/{suggested.id}/answer", {"accept": "yes"}, page="/me/goals")
    db.session.refresh(suggested)
    assert suggested.state == "active"


def test_others_get_404(client: Client, world: World) -> None:
    goal = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    sign_in_as(client, world.patient_y.user)
    assert client.get(f"/me/goals/{goal.id}").status_code == 404
    sign_in_as(client, world.nurse_b)
    assert client.get(f"/staff/patients/{world.patient_x.id}/goals").status_code == 404
    token = client.csrf_token("/staff/")
    assert client.post(f"/staff/goals/{goal.id}/note",
                       data={"csrf_token": token, "note": "x"}).status_code == 404


def test_consent_to_share_with_the_ip_coordinator_is_recorded(client: Client, world: World,
                                                              new_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_as(client, world.coordinator_a)
    page = f"/staff/patients/{world.patient_x.id}/goals"
    bad = client.submit(f"{page}/consent", {"given": "yes", "method": "telepathy"}, page=page)
    assert bad.status_code == 200 and goals.ip_consent(world.patient_x) is None
    client.submit(f"{page}/consent", {"given": "yes", "method": "in_person"}, page=page)
    consent = goals.ip_consent(world.patient_x)
    assert consent is not None and consent.given and consent.method == "in_person"
    assert consent.recorded_by_id == world.coordinator_a.id
    shown = text(client.get(page))
    assert "The patient agrees to share the goals: In person, at the clinic, recorded" in shown
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    assert "may be shared with the coordinator of your individual plan" in text(
        patient.get("/me/goals"))
    client.submit(f"{page}/consent", {"given": "no", "method": "phone"}, page=page)
    assert not goals.ip_consent(world.patient_x).given  # type: ignore[union-attr]


def test_every_change_is_kept_and_shown_with_who_made_it(client: Client, world: World) -> None:
    goal = goals.add(world.patient_x, "Få en bolig", world.patient_x.user)
    goals.reword(goal, "Få en fast bolig", world.patient_x.user, based_on=1)
    goals.set_status(goal, "stuck", "Venter på kommunen", world.doctor_a, based_on=2)
    assert goal.version == 3
    assert [e.kind for e in goals.history(goal)] == ["status", "reworded", "added"]
    sign_in_as(client, world.patient_x.user)
    page = text(client.get(f"/me/goals/{goal.id}"))
    assert "Who changed what" in page
    assert "Xena Pasient: changed the words. Before: “Få en bolig”" in page
    assert "set the status to “Stuck” (before: “Started”): Venter på kommunen" in page


def test_two_people_changing_a_goal_at_once_nothing_is_overwritten(
        client: Client, world: World, new_client) -> None:  # type: ignore[no-untyped-def]
    goal = goals.add(world.patient_x, "Få en bolig", world.patient_x.user)
    sign_in_as(client, world.patient_x.user)
    client.get(f"/me/goals/{goal.id}")  # the patient opens the goal (version 1) ...
    staff = new_client()
    sign_in_as(staff, world.doctor_a)
    staff.submit(f"/staff/goals/{goal.id}/status", {"status": "going_well", "reason": "Fint",
                                                    "based_on": "1"},
                 page=f"/staff/patients/{world.patient_x.id}/goals")
    # ... and saves on top of it after the doctor did.
    late = client.submit(f"/me/goals/{goal.id}", {"form": "text", "text": "Få en egen leilighet",
                                                  "based_on": "1"})
    assert late.status_code == 200
    assert "Someone changed this goal while you were writing" in html.unescape(late.text)
    assert "Få en egen leilighet" in late.text  # what was typed is kept
    db.session.refresh(goal)
    assert goal.text == "Få en bolig" and goal.status == "going_well"
    assert f'name="based_on" type="hidden" value="{goal.version}"' in late.text
    again = client.submit(f"/me/goals/{goal.id}", {"form": "text", "text": "Få en egen leilighet",
                                                   "based_on": str(goal.version)})
    assert again.status_code == 302
    db.session.refresh(goal)
    assert goal.text == "Få en egen leilighet" and goal.status == "going_well"
