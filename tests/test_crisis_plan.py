"""The crisis plan: the patient's words in versions, who may read it, and edits at once."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from server.extensions import db
from server.models import AccessLogEntry, AccessTarget, RelativeScope
from server.plans import crisis
from server.plans.models import CrisisPlanVersion
from tests.conftest import Client, Factory, World, sign_in_as

FORM = {"warning_signs": "Jeg slutter å svare på telefonen.", "self_help": "Gå en tur.",
        "helpers": "Kafeen på hjørnet.", "meet": "Snakk rolig.",
        "naloxone": "I skuffen på badet.", "shared_with_team": "y",
        "contacts-0-name": "Søster Line", "contacts-0-phone": "912 34 000"}


def text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.text)))


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(CrisisPlanVersion)) or 0


def saved_plan(world: World, shared: bool = True) -> CrisisPlanVersion:
    return crisis.save(world.patient_x, crisis.PlanInput(
        texts={"warning_signs": "Sover dårlig.", "naloxone": "I vesken."},
        contacts=[crisis.Contact("Mamma", "22 33 44 55")], shared_with_team=shared),
        world.patient_x.user, None)


def test_a_patient_without_a_plan_still_gets_the_numbers(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    page = client.get("/me/crisis-plan")
    assert 'href="tel:113"' in page.text and 'href="tel:116117"' in page.text
    assert "Write my crisis plan" in page.text
    assert "Nobody watches this page or the app around the clock" in page.text
    assert "Call 113. Say you think it is an overdose." in page.text
    assert 'href="/me/crisis-plan">Need help now</a>' in client.get("/me/").text


def test_the_patient_writes_a_plan_and_each_save_is_a_version(client: Client,
                                                               world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    response = client.submit("/me/crisis-plan/edit", FORM)
    assert response.headers["Location"].endswith("/me/crisis-plan")
    page = client.get("/me/crisis-plan")
    assert 'href="tel:+4791234000">912 34 000</a>' in page.text
    assert "Jeg slutter å svare på telefonen." in page.text and "I skuffen på badet." in page.text
    client.submit("/me/crisis-plan/edit", {**FORM, "meet": "Ikke ring mamma.", "based_on": "1"})
    assert count() == 2
    versions = text(client.get("/me/crisis-plan/versions"))
    assert "Version 2, saved by Xena Pasient. Changed: how I want to be met." in versions
    old = client.get("/me/crisis-plan/versions/1").text
    assert "Snakk rolig." in old and "earlier version (number 1)" in old


def test_bad_input_is_explained_and_kept(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    bad_phone = client.submit("/me/crisis-plan/edit", {**FORM, "contacts-0-phone": "abc"})
    assert bad_phone.status_code == 200
    assert "A phone number can only have digits" in bad_phone.text
    assert "Jeg slutter å svare på telefonen." in bad_phone.text  # kept
    no_name = client.submit("/me/crisis-plan/edit", {"contacts-1-phone": "22 33 44 55"})
    assert "Write who this is" in html.unescape(no_name.text)
    empty = client.submit("/me/crisis-plan/edit", {})
    assert "Write something in at least one of the steps." in empty.text
    assert count() == 0


def test_two_people_editing_at_once_nothing_is_overwritten(client: Client, world: World,
                                                           new_client) -> None:  # type: ignore[no-untyped-def]
    saved_plan(world)
    sign_in_as(client, world.patient_x.user)
    other = new_client()
    sign_in_as(other, world.patient_x.user)
    client.submit("/me/crisis-plan/edit", {**FORM, "based_on": "1"})
    late = other.submit("/me/crisis-plan/edit", {**FORM, "meet": "Min egen tekst.",
                                                 "based_on": "1"})
    assert late.status_code == 200
    assert "The plan was changed while you were writing" in late.text
    assert "Min egen tekst." in late.text  # what they typed is still in the form
    assert 'name="based_on" value="2"' in late.text  # saving again builds on the newest
    assert count() == 2
    again = other.submit("/me/crisis-plan/edit", {**FORM, "meet": "Min egen tekst.",
                                                  "based_on": "2"})
    assert again.status_code == 302 and count() == 3


def test_the_care_team_reads_it_while_it_is_shared(client: Client, world: World) -> None:
    saved_plan(world)
    sign_in_as(client, world.doctor_a)
    page = client.get(f"/staff/patients/{world.patient_x.id}/crisis-plan")
    assert page.status_code == 200 and "Sover dårlig." in page.text
    assert db.session.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.target == AccessTarget.CRISIS_PLAN)) == 1
    crisis.save(world.patient_x, crisis.PlanInput(texts={"warning_signs": "Privat."},
                                                  shared_with_team=False),
                world.patient_x.user, 1)
    assert client.get(f"/staff/patients/{world.patient_x.id}/crisis-plan").status_code == 404


def test_other_clinics_and_a_former_clinic_get_404(client: Client, world: World,
                                                   make: Factory) -> None:
    saved_plan(world)
    sign_in_as(client, world.nurse_b)
    assert client.get(f"/staff/patients/{world.patient_x.id}/crisis-plan").status_code == 404
    world.patient_x.clinic_id = world.clinic_b.id  # moved to clinic B
    db.session.commit()
    former = make.staff(world.clinic_a, name="Tidligere")
    sign_in_as(client, former)
    assert client.get(f"/staff/patients/{world.patient_x.id}/crisis-plan").status_code == 404


def test_a_relative_needs_the_crisis_plan_scope(client: Client, world: World) -> None:
    from server.services import relatives

    saved_plan(world, shared=False)  # sharing with the team is not sharing with relatives
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone="+4790000001", scopes=[RelativeScope.APPOINTMENTS.value]))
    access = relatives.accept(invitation, world.relative)
    sign_in_as(client, world.relative)
    url = f"/relative/patients/{world.patient_x.id}/crisis-plan"
    assert client.get(url).status_code == 404
    relatives.change(access, [RelativeScope.CRISIS_PLAN.value], None)
    page = client.get(url)
    assert page.status_code == 200 and "Sover dårlig." in page.text
    entry = db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.target == AccessTarget.CRISIS_PLAN)).one()
    assert entry.viewer_role == "relative"


def test_the_plan_prints_as_a_pdf_with_the_same_words(client: Client, world: World) -> None:
    import io

    from pypdf import PdfReader

    saved_plan(world)
    world.patient_x.user.language = "en"  # the PDF is in the patient's language
    db.session.commit()
    sign_in_as(client, world.patient_x.user)
    response = client.get("/me/crisis-plan/crisis-plan.pdf")
    assert response.mimetype == "application/pdf"
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    for expected in ("When things get hard", "Xena Pasient", "Sover dårlig.", "Mamma: 22 33 44 55",
                     "call 113", "116 117", "My naloxone is: I vesken.",
                     "1. Call 113. Say you think it is an overdose."):
        assert expected in words, expected
    sign_in_as(client, world.doctor_a)
    staff_copy = client.get(f"/staff/patients/{world.patient_x.id}/crisis-plan.pdf")
    assert staff_copy.mimetype == "application/pdf"


def test_a_letter_patient_gets_the_plan_by_letter_when_it_changes(world: World,
                                                                  make: Factory) -> None:
    import io

    from pypdf import PdfReader

    from server.models import Channel, MessagePurpose, OutboxMessage
    from server.notify.letter import render_letters_pdf
    from server.services import letters
    from tests.conftest import deliver_now
    from tests.test_notifications import FORBIDDEN

    paper = make.patient(world.clinic_a, "Per Papir", phone=None, channels=(Channel.LETTER,),
                         language="en")
    first = crisis.save(paper, crisis.PlanInput(texts={"self_help": "Ringe Line."}),
                        paper.user, None)
    crisis.save(paper, crisis.PlanInput(texts={"self_help": "Ringe Line. Gå ut."}), paper.user,
                first.version)
    # An app patient's save sends nothing.
    saved_plan(world)
    sent = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == MessagePurpose.CRISIS_PLAN)).all()
    assert [(m.patient_id, m.channels) for m in sent] == [(paper.id, ["letter"])]  # once a day
    deliver_now(OutboxMessage.purpose == MessagePurpose.CRISIS_PLAN)
    queued = letters.queued([world.clinic_a.id])
    assert [m.purpose for m in queued] == [MessagePurpose.CRISIS_PLAN]
    body = " ".join(" ".join(page.extract_text() for page in
                             PdfReader(io.BytesIO(render_letters_pdf(queued))).pages).split())
    assert "Your plan for when things get hard was changed on" in body
    assert "Ringe Line. Gå ut." in body  # the plan as it stands when printed
    assert "1. Call 113. Say you think it is an overdose." in body
    assert "Your clinic: " in body and world.clinic_a.name not in body
    assert not FORBIDDEN.search(body), body
