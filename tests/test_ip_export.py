"""The goals for the municipality's individual plan: only with the patient's consent, as a
PDF read back and as FHIR R4 (Patient, CarePlan, Goal) checked by an independent validator."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget
from server.plans import goals, ip_export
from server.services.local_time import oslo_today
from tests.conftest import CareTeam, Client, Factory, World, sign_in_as
from tests.fhir_validator import validate


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def plan_with_goals(world: World, kari_team: CareTeam) -> None:
    housing = goals.add(world.patient_x, "Få en fast bolig", world.patient_x.user)
    goals.add_measure(housing, "Søke kommunal bolig", kari_team.coordinator,
                      oslo_today() + timedelta(days=14), world.doctor_a, oslo_today())
    goals.set_status(housing, "stuck", "Venter på svar fra kommunen", world.doctor_a)
    goals.add_note(housing, "Søknaden er sendt.", world.patient_x.user)
    goals.add(world.patient_x, "Begynne å jobbe litt", world.patient_x.user)
    goals.add(world.patient_x, "Et forslag pasienten ikke har svart på", world.doctor_a)


def url(world: World, kind: str) -> str:
    return f"/staff/patients/{world.patient_x.id}/goals/ip-plan.{kind}"


def test_no_export_without_consent_and_none_after_it_is_withdrawn(
        client: Client, world: World, kari_team: CareTeam) -> None:
    plan_with_goals(world, kari_team)
    sign_in_as(client, world.doctor_a)
    refused = client.get(url(world, "json"))
    assert refused.status_code == 302 and refused.headers["Location"].endswith("#consent")
    page = client.get(refused.headers["Location"]).text
    assert "has not agreed to share the goals" in page and "ip-plan.json" not in page
    goals.record_consent(world.patient_x, True, "in_person", world.doctor_a)
    assert client.get(url(world, "json")).status_code == 200
    assert "ip-plan.pdf" in client.get(f"/staff/patients/{world.patient_x.id}/goals").text
    goals.record_consent(world.patient_x, False, "phone", world.doctor_a)
    assert client.get(url(world, "pdf")).status_code == 302
    with pytest.raises(ip_export.NoConsent):
        ip_export.fhir_bundle(world.patient_x)


def test_the_json_is_valid_fhir_r4_with_the_goals_measures_and_notes(
        client: Client, world: World, kari_team: CareTeam) -> None:
    plan_with_goals(world, kari_team)
    goals.record_consent(world.patient_x, True, "in_writing", world.doctor_a)
    sign_in_as(client, world.doctor_a)
    response = client.get(url(world, "json"))
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Cache-Control"] == "no-store"
    bundle = json.loads(response.data)
    result = validate(bundle)
    assert result == {"valid": True, "messages": []}, result["messages"]
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "CarePlan", "Goal", "Goal"]  # the suggestion is not the patient's
    plan = bundle["entry"][1]["resource"]
    housing = bundle["entry"][2]["resource"]
    assert housing["description"]["text"] == "Få en fast bolig"
    assert housing["lifecycleStatus"] == "active"
    assert housing["achievementStatus"]["coding"][0]["code"] == "no-progress"
    assert housing["statusReason"] == "Venter på svar fra kommunen"
    assert housing["note"][0]["text"] == "Søknaden er sendt."
    [activity] = plan["activity"]
    assert activity["detail"]["description"] == "Søke kommunal bolig"
    assert activity["detail"]["goal"] == [{"reference": bundle["entry"][2]["fullUrl"]}]
    assert activity["detail"]["performer"][0]["display"].startswith("Koordinator")
    assert plan["goal"][0]["reference"] == bundle["entry"][2]["fullUrl"]
    # The same goal keeps its fullUrl from one export to the next.
    assert json.loads(client.get(url(world, "json")).data)["entry"][2]["fullUrl"] == \
        bundle["entry"][2]["fullUrl"]
    logged = db.session.scalars(select(AccessLogEntry.target).where(
        AccessLogEntry.patient_id == world.patient_x.id)).all()
    assert AccessTarget.IP_EXPORT in logged


def test_the_validator_catches_what_it_must() -> None:
    wrong = {"resourceType": "Goal", "lifecycleStatus": "maybe", "description": {"text": "x"}}
    result = validate(wrong)
    assert not result["valid"]
    assert {m["location"] for m in result["messages"]} >= {"Goal.lifecycleStatus", "Goal.subject"}


def test_the_pdf_reads_back_in_the_patients_language(
        client: Client, world: World, kari_team: CareTeam) -> None:
    plan_with_goals(world, kari_team)
    world.patient_x.user.language = "en"
    db.session.commit()
    goals.record_consent(world.patient_x, True, "in_person", world.doctor_a)
    sign_in_as(client, world.doctor_a)
    response = client.get(url(world, "pdf"))
    assert response.mimetype == "application/pdf"
    words = " ".join(" ".join(p.extract_text() for p in
                              PdfReader(io.BytesIO(response.data)).pages).split())
    for expected in ("Individual plan: the clinic's part", "Xena Pasient",
                     "1. Få en fast bolig", "Status: Stuck - Venter på svar fra kommunen",
                     "Measure: Søke kommunal bolig. Responsible: Koordinator",
                     "Søknaden er sendt.", "2. Begynne å jobbe litt", "with the patient's consent"):
        assert expected in words, expected
    assert "Et forslag" not in words


def test_staff_of_another_clinic_get_404(client: Client, world: World,
                                         kari_team: CareTeam) -> None:
    goals.record_consent(world.patient_x, True, "in_person", world.doctor_a)
    sign_in_as(client, world.nurse_b)
    assert client.get(url(world, "json")).status_code == 404
    sign_in_as(client, world.patient_x.user)
    assert client.get(url(world, "pdf")).status_code in (403, 404)
