"""The staff workspace: Today, the worklist's filters, assignment, grouping, done (one or many)
with a note, each item's history, and the access log of every list."""

from __future__ import annotations

import html
import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import (
    AccessLogEntry,
    AccessTarget,
    Attendance,
    PatientAnswer,
    StaffRole,
    WorkEventKind,
    WorkItem,
    WorkItemEvent,
    WorkKind,
    WorkStatus,
)
from server.models.base import utcnow
from server.services import appointments, worklist
from server.services.local_time import oslo_today, to_utc
from tests.conftest import Client, Factory, World, sign_in_as


def text(response) -> str:  # type: ignore[no-untyped-def]
    words = html.unescape(re.sub(r"<[^>]+>", " ", response.text)).replace("\xa0", " ")
    return re.sub(r"\s+", " ", words)


def started_today(make: Factory, patient, minutes_ago: int = 30):  # type: ignore[no-untyped-def]
    """An appointment that started a little while ago, but today in Norway (also just after
    midnight)."""
    appointment = make.appointment(patient)
    appointment.starts_at = max(utcnow() - timedelta(minutes=minutes_ago),
                                to_utc(oslo_today(), time(0)))
    db.session.commit()
    return appointment


def answered(make: Factory, patient, answer=PatientAnswer.CANNOT_COME,  # type: ignore[no-untyped-def]
             **fields) -> WorkItem:
    appointment = make.appointment(patient, **fields)
    appointments.answer(appointment, answer, reason="Sick")
    return db.session.scalars(select(WorkItem).where(
        WorkItem.appointment_id == appointment.id)).one()


def entries(viewer_id: int, target: AccessTarget) -> list[int]:
    return sorted(db.session.scalars(select(AccessLogEntry.patient_id).where(
        AccessLogEntry.viewer_user_id == viewer_id, AccessLogEntry.target == target)))


# -- Today ---------------------------------------------------------------------------------

def test_today_lists_todays_and_tomorrows_appointments_with_birth_and_answer(
        client: Client, world: World, make: Factory) -> None:
    world.patient_x.date_of_birth = date(1984, 3, 12)
    db.session.commit()
    now_one = started_today(make, world.patient_x)
    later = make.appointment(world.patient_y, starts_in=timedelta(days=1))
    later.starts_at = to_utc(oslo_today() + timedelta(days=1), time(12))  # tomorrow, any hour
    db.session.commit()
    appointments.answer(later, PatientAnswer.CONFIRMED)
    far = make.appointment(world.patient_y, starts_in=timedelta(days=9))
    other_clinic = make.appointment(world.patient_b, starts_in=timedelta(hours=2))
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/?who=all")
    words = text(page)
    assert f'id="appointment-{now_one.id}"' in page.text
    assert "born 12/03/1984" in words
    assert "Coming" in words  # the answer, in the row
    assert f'id="appointment-{far.id}"' not in page.text
    assert f'id="appointment-{other_clinic.id}"' not in page.text and "Berit" not in words
    # Each patient in the table is in the access log, once, as an appointment.
    assert entries(world.doctor_a.id, AccessTarget.APPOINTMENT) == sorted(
        [world.patient_x.id, world.patient_y.id])
    assert world.patient_b.id not in entries(world.doctor_a.id, AccessTarget.NAME)


def test_attendance_is_marked_from_today_and_a_miss_makes_outreach(
        client: Client, world: World, make: Factory) -> None:
    came = started_today(make, world.patient_x)
    missed = started_today(make, world.patient_y, minutes_ago=20)
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/?who=all").text
    assert page.count('value="attended"') == 2 and 'value="today-all"' in page
    response = client.submit(f"/staff/appointments/{came.id}/attendance",
                             {"attendance": "attended", "back": "today-all"},
                             page="/staff/?who=all")
    assert response.headers["Location"].endswith(f"/staff/?who=all#appointment-{came.id}")
    client.submit(f"/staff/appointments/{missed.id}/attendance",
                  {"attendance": "missed", "back": "today-all"}, page="/staff/?who=all")
    db.session.refresh(came)
    db.session.refresh(missed)
    assert came.attendance is Attendance.ATTENDED and missed.attendance is Attendance.MISSED
    outreach = db.session.scalars(select(WorkItem).where(
        WorkItem.kind == WorkKind.OUTREACH)).one()
    assert outreach.patient_id == world.patient_y.id
    words = text(client.get("/staff/?who=all"))
    assert "Attended" in words and "Missed" in words
    assert 'value="attended"' not in client.get("/staff/?who=all").text


def test_attendance_cannot_be_marked_before_the_appointment_starts(
        client: Client, world: World, make: Factory) -> None:
    future = make.appointment(world.patient_x, starts_in=timedelta(hours=20))
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/?who=all").text
    if f'id="appointment-{future.id}"' in page:  # today or tomorrow in Norway: no buttons
        row = page.split(f'id="appointment-{future.id}"')[1].split("</tr>")[0]
        assert "Can be marked from" in row and 'value="missed"' not in row
    response = client.submit(f"/staff/appointments/{future.id}/attendance",
                             {"attendance": "missed", "back": "today-all"},
                             page="/staff/?who=all", follow_redirects=True)
    assert "Attendance can be marked once the appointment has started." in response.text
    db.session.refresh(future)
    assert future.attendance is Attendance.UNKNOWN
    assert db.session.scalars(select(WorkItem).where(WorkItem.kind == WorkKind.OUTREACH)).all() == []


def test_my_patients_are_those_whose_care_team_i_am_in(
        client: Client, world: World, make: Factory) -> None:
    from server.care_team import team

    team.add_staff_member(world.patient_x, world.doctor_a, "lege", world.doctor_a)
    mine = started_today(make, world.patient_x)
    theirs = started_today(make, world.patient_y)
    sign_in_as(client, world.doctor_a)
    default = client.get("/staff/").text  # "mine" is the default for a care-team member
    assert f'id="appointment-{mine.id}"' in default
    assert f'id="appointment-{theirs.id}"' not in default
    everyone = client.get("/staff/?who=all").text
    assert f'id="appointment-{theirs.id}"' in everyone
    patients = text(client.get("/staff/patients"))
    assert "Xena Pasient" in patients and "Yngve Pasient" not in patients
    # A bad value is ignored, with a notice.
    odd = client.get("/staff/?who=%27;drop")
    assert odd.status_code == 200 and "not understood" in odd.text


def test_today_counts_lead_to_the_filtered_lists(client: Client, world: World,
                                                 make: Factory) -> None:
    answered(make, world.patient_x)
    answered(make, world.patient_y)
    answered(make, world.patient_b)  # another clinic: not counted
    make.take_home(world.patient_x, starts_in_days=12)
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/")
    words = text(page)
    assert re.search(r"\b2 open work items", words)
    assert "Answer to an appointment: 2" in words
    assert 'href="/staff/worklist?kind=answer#items"' in page.text
    assert re.search(r"\b1 take-home request waits for a decision", words)
    assert "The soonest starts" in words


# -- the worklist --------------------------------------------------------------------------

def test_filters_by_kind_assignee_patient_age_and_status(
        client: Client, world: World, make: Factory) -> None:
    x_item = answered(make, world.patient_x)
    y_item = answered(make, world.patient_y)
    old = answered(make, world.patient_y, starts_in=timedelta(days=5))
    old.created_at = utcnow() - timedelta(days=4)
    worklist.assign(y_item, world.coordinator_a, world.doctor_a)
    worklist.assign(x_item, world.doctor_a, world.doctor_a)
    db.session.commit()
    sign_in_as(client, world.doctor_a)

    def shown(query: str) -> set[int]:
        return {int(i) for i in re.findall(r'id="item-(\d+)"', client.get(
            "/staff/worklist" + query).text)}

    assert shown("") == {x_item.id, y_item.id, old.id}
    assert shown("?assignee=me") == {x_item.id}
    assert shown("?assignee=none") == {old.id}
    assert shown(f"?assignee={world.coordinator_a.id}") == {y_item.id}
    assert shown(f"?patient={world.patient_y.id}") == {y_item.id, old.id}
    assert shown("?age=3") == {old.id}
    assert shown("?kind=outreach") == set()
    assert shown("?kind=answer") == {x_item.id, y_item.id, old.id}
    worklist.mark_done(old, world.doctor_a, "Called")
    assert shown("?status=done") == {old.id}
    assert old.id not in shown("")
    # The choices stay in the page's links and form.
    page = client.get(f"/staff/worklist?kind=answer&assignee={world.coordinator_a.id}").text
    assert 'option value="answer" selected' in page
    assert f'option value="{world.coordinator_a.id}" selected' in page


@pytest.mark.parametrize("query", ["?kind=nonsense", "?assignee=999999", "?age=2",
                                   "?patient=abc", "?status=deleted", "?sort=newest",
                                   "?group=yes", "?patient=" + "9" * 5000,
                                   "?assignee=%00", "?kind=answer&age=-1"])
def test_bad_filter_values_are_ignored_with_a_notice(client: Client, world: World,
                                                     make: Factory, query: str) -> None:
    item = answered(make, world.patient_x)
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/worklist" + query)
    assert page.status_code == 200
    assert "Some choices in the address were not understood" in page.text
    assert f'id="item-{item.id}"' in page.text  # the rest of the list is still there


def test_a_colleague_of_another_clinic_is_not_a_filter_or_an_assignee(
        client: Client, world: World, make: Factory) -> None:
    item = answered(make, world.patient_x)
    sign_in_as(client, world.doctor_a)
    page = client.get(f"/staff/worklist?assignee={world.nurse_b.id}")
    assert "not understood" in page.text and "Sykepleier B" not in page.text
    client.submit(f"/staff/worklist/{item.id}/assign", {"assignee": str(world.nurse_b.id)},
                  page="/staff/worklist")
    db.session.refresh(item)
    assert item.assigned_to_id is None


def test_sort_by_due_date(client: Client, world: World, make: Factory) -> None:
    later = answered(make, world.patient_x, starts_in=timedelta(hours=40))
    sooner = answered(make, world.patient_y, starts_in=timedelta(hours=5))
    assert sooner.due_at is not None and later.due_at is not None
    assert sooner.due_at <= sooner.appointment.starts_at  # an answer is due before the visit
    sign_in_as(client, world.doctor_a)
    oldest = re.findall(r'id="item-(\d+)"', client.get("/staff/worklist").text)
    due = re.findall(r'id="item-(\d+)"', client.get("/staff/worklist?sort=due").text)
    assert oldest == [str(later.id), str(sooner.id)]
    assert due == [str(sooner.id), str(later.id)]


def test_assign_to_me_a_colleague_and_back_with_history(client: Client, world: World,
                                                        make: Factory) -> None:
    item = answered(make, world.patient_x)
    sign_in_as(client, world.doctor_a)
    client.submit(f"/staff/worklist/{item.id}/assign", {"assignee": "me",
                                                        "back": "assignee=me&kind=answer"},
                  page="/staff/worklist")
    db.session.refresh(item)
    assert item.assigned_to_id == world.doctor_a.id
    response = client.submit(f"/staff/worklist/{item.id}/assign",
                             {"assignee": str(world.coordinator_a.id)}, page="/staff/worklist")
    assert response.headers["Location"].endswith("/staff/worklist#items")
    db.session.refresh(item)
    assert item.assigned_to_id == world.coordinator_a.id
    client.submit(f"/staff/worklist/{item.id}/assign", {"assignee": "none"},
                  page="/staff/worklist")
    db.session.refresh(item)
    assert item.assigned_to_id is None
    kinds = [e.kind for e in db.session.scalars(select(WorkItemEvent).where(
        WorkItemEvent.item_id == item.id))]
    assert kinds == [WorkEventKind.ASSIGNED] * 3
    history = text(client.get(f"/staff/worklist/{item.id}"))
    assert "Doktor A took it." in history
    assert "Doktor A gave it to Koordinator A." in history
    assert "Doktor A gave it back to the clinic." in history


def test_the_filters_come_back_after_an_action_but_only_those_understood(
        client: Client, world: World, make: Factory) -> None:
    item = answered(make, world.patient_x)
    sign_in_as(client, world.doctor_a)
    response = client.submit(f"/staff/worklist/{item.id}/assign",
                             {"assignee": "me", "back": "assignee=me&kind=evil&sort=due"},
                             page="/staff/worklist")
    location = response.headers["Location"]
    assert "assignee=me" in location and "sort=due" in location and "evil" not in location


def test_group_by_patient(client: Client, world: World, make: Factory) -> None:
    for _ in range(3):
        answered(make, world.patient_x, starts_in=timedelta(days=3))
    answered(make, world.patient_y)
    sign_in_as(client, world.doctor_a)
    page = client.get("/staff/worklist?group=patient").text
    groups = page.split('class="work-group"')[1:]
    assert len(groups) == 2
    heads = [text_of_group.split("</tr>")[0] for text_of_group in groups]
    assert "Xena Pasient" in heads[0] and "3 items" in heads[0]
    assert "Yngve Pasient" in heads[1] and "1 item" in heads[1]
    assert groups[0].count('id="item-') == 3


def test_done_with_a_note_one_and_several_at_once(client: Client, world: World,
                                                  make: Factory) -> None:
    one = answered(make, world.patient_x)
    two = answered(make, world.patient_y)
    three = answered(make, world.patient_y, starts_in=timedelta(days=4))
    theirs = answered(make, world.patient_b)
    sign_in_as(client, world.doctor_a)
    client.submit(f"/staff/worklist/{one.id}/done", {"note": "Ringte, ny time avtalt"},
                  page="/staff/worklist")
    db.session.refresh(one)
    assert one.status is WorkStatus.DONE and one.done_note == "Ringte, ny time avtalt"
    token = client.csrf_token("/staff/worklist")
    response = client.post("/staff/worklist/done", data={
        "csrf_token": token, "note": "Sett", "item_id": [str(two.id), str(three.id),
                                                         str(theirs.id), "x"]},
        follow_redirects=True)
    assert "2 items marked as done." in response.text
    for item in (two, three, theirs):
        db.session.refresh(item)
    assert two.status is WorkStatus.DONE and three.done_note == "Sett"
    assert theirs.status is WorkStatus.OPEN  # another clinic's item is left alone
    history = text(client.get(f"/staff/worklist/{two.id}"))
    assert "Doktor A marked it as done." in history and "Sett" in history
    empty = client.post("/staff/worklist/done", data={"csrf_token": token},
                        follow_redirects=True)
    assert "Choose the items that are done first." in empty.text


def test_a_done_item_can_be_opened_again(client: Client, world: World, make: Factory) -> None:
    item = answered(make, world.patient_x)
    worklist.mark_done(item, world.doctor_a, "Feil")
    sign_in_as(client, world.coordinator_a)
    client.submit(f"/staff/worklist/{item.id}/reopen", page=f"/staff/worklist/{item.id}")
    db.session.refresh(item)
    assert item.status is WorkStatus.OPEN
    assert "Koordinator A opened it again." in text(client.get(f"/staff/worklist/{item.id}"))


def test_a_changed_answer_updates_the_item_and_its_history(client: Client, world: World,
                                                           make: Factory) -> None:
    appointment = make.appointment(world.patient_x)
    appointments.answer(appointment, PatientAnswer.CONFIRMED)
    appointments.answer(appointment, PatientAnswer.CANNOT_COME, reason="Syk")
    items = db.session.scalars(select(WorkItem).where(
        WorkItem.appointment_id == appointment.id)).all()
    assert len(items) == 1 and items[0].details["changed_from"] == "confirmed"
    sign_in_as(client, world.doctor_a)
    assert "The patient changed the answer." in text(client.get(f"/staff/worklist/{items[0].id}"))


def test_other_clinics_items_are_not_found(client: Client, world: World, make: Factory) -> None:
    theirs = answered(make, world.patient_b)
    sign_in_as(client, world.doctor_a)
    assert client.get(f"/staff/worklist/{theirs.id}").status_code == 404
    token = client.csrf_token("/staff/worklist")
    for action in ("assign", "done", "reopen"):
        response = client.post(f"/staff/worklist/{theirs.id}/{action}",
                               data={"csrf_token": token, "assignee": "me"})
        assert response.status_code == 404, action
    db.session.refresh(theirs)
    assert theirs.status is WorkStatus.OPEN and theirs.assigned_to_id is None


def test_the_worklist_logs_each_patient_shown_once_per_kind(client: Client, world: World,
                                                            make: Factory) -> None:
    answered(make, world.patient_x)
    answered(make, world.patient_x, starts_in=timedelta(days=5))
    answered(make, world.patient_b)
    sign_in_as(client, world.doctor_a)
    client.get(f"/staff/worklist?patient={world.patient_x.id}")
    assert entries(world.doctor_a.id, AccessTarget.APPOINTMENT) == [world.patient_x.id]
    assert world.patient_b.id not in entries(world.doctor_a.id, AccessTarget.APPOINTMENT)


def test_a_nurse_may_take_work_but_not_of_another_clinic(client: Client, world: World,
                                                         make: Factory) -> None:
    nurse = make.staff(world.clinic_a, StaffRole.NURSE, name="Sykepleier A")
    item = answered(make, world.patient_x)
    sign_in_as(client, nurse)
    client.submit(f"/staff/worklist/{item.id}/assign", {"assignee": "me"},
                  page="/staff/worklist")
    db.session.refresh(item)
    assert item.assigned_to_id == nurse.id
    row = client.get("/staff/worklist").text.split(f'id="item-{item.id}"')[1]
    assert '<option value="me" selected>' in row.split("</tr>")[0]


# -- deciding a take-home request ----------------------------------------------------------

def test_the_decision_page_shows_its_context_above_the_form(
        client: Client, world: World, make: Factory, things: dict[str, int | str]) -> None:
    fresh = make.take_home(world.patient_x, starts_in_days=60)
    missed = started_today(make, world.patient_x)
    appointments.mark_attendance(missed, Attendance.MISSED, world.doctor_a)
    sign_in_as(client, world.doctor_a)
    page = client.get(f"/staff/take-home/{fresh.id}").text
    form_at = page.index(f'action="/staff/take-home/{fresh.id}/decide"')
    for context in ("Take-home periods already granted:", "Attendance in the last 3 months",
                    "0 attended, 1 missed", "Recent feedback", "Sover dårlig.",
                    "Earlier requests and decisions", "Stabil lenge."):
        assert context in page, context
        assert page.index(context) < form_at, context
    targets = {e.target for e in db.session.scalars(select(AccessLogEntry).where(
        AccessLogEntry.viewer_user_id == world.doctor_a.id))}
    assert {AccessTarget.TAKE_HOME, AccessTarget.FEEDBACK, AccessTarget.OBSERVATIONS} <= targets


def test_the_overview_has_every_section_and_links_to_the_full_pages(
        client: Client, world: World, make: Factory, things: dict[str, int | str]) -> None:
    sign_in_as(client, world.doctor_a)
    page = client.get(f"/staff/patients/{world.patient_x.id}").text
    for heading in ("Identity and contact", "Care team", "Next appointments", "Open work",
                    "Pickup and take-home", "Feedback", "Relatives", "Messages"):
        assert f">{heading}</h2>" in page, heading
    for link in (f"/staff/patients/{world.patient_x.id}/team",
                 f"/staff/worklist?patient={world.patient_x.id}",
                 f"/staff/patients/{world.patient_x.id}/feedback",
                 f"/staff/patients/{world.patient_x.id}/relatives",
                 f"/staff/worklist/{things['item_id']}"):
        assert f'href="{link}' in page, link
    assert "Rita" in page and "Sover dårlig." in page  # the relative and what she said
    assert "Your clinic" not in page and "You meet" not in page


def test_no_staff_page_uses_the_patients_words(app, client: Client, world: World,  # type: ignore[no-untyped-def]
                                               things: dict[str, int | str]) -> None:
    """Staff pages have their own words: "Your clinic" and "You meet" are the patient's."""
    from tests.conftest import endpoint_urls

    sign_in_as(client, world.doctor_a)
    pages = [url for endpoint, method, url in endpoint_urls(app, things)
             if method == "GET" and endpoint.split(".")[0].startswith(("staff", "worklist"))]
    assert len(pages) > 30
    for url in pages:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for words in ("Your clinic", "You meet", "in my own words"):
            assert words not in response.text, (url, words)


def test_a_call_back_item_has_the_number_and_the_patients_preferred_time(
        client: Client, world: World, make: Factory, new_client) -> None:  # type: ignore[no-untyped-def]
    appointment = make.appointment(world.patient_x)
    patient = new_client()
    sign_in_as(patient, world.patient_x.user)
    patient.submit(f"/me/appointments/{appointment.id}/cannot-come",
                   {"reason": "", "call_me": "y", "call_when": "etter kl. 12"})
    sign_in_as(client, world.doctor_a)
    row = client.get("/staff/worklist").text.split('class="work-answer')[1].split("</tr>")[0]
    assert f'href="tel:{world.patient_x.user.phone}"' in row
    assert "Best time to call: etter kl. 12" in html.unescape(row)


def test_the_worklist_comes_in_pages_of_a_hundred(client: Client, world: World) -> None:
    from server.services.worklist import PAGE_SIZE

    now = utcnow()
    db.session.add_all([WorkItem(clinic_id=world.clinic_a.id, patient_id=world.patient_x.id,
                                 kind=WorkKind.SMS_STOPPED, created_at=now - timedelta(minutes=n))
                        for n in range(PAGE_SIZE + 5)])
    db.session.commit()
    sign_in_as(client, world.doctor_a)
    first = client.get("/staff/worklist")
    assert first.text.count('id="item-') == PAGE_SIZE
    assert f"Showing 1–{PAGE_SIZE} of {PAGE_SIZE + 5}, oldest first." in html.unescape(first.text)
    assert 'href="/staff/worklist?page=2#items" rel="next"' in first.text
    second = client.get("/staff/worklist?page=2")
    assert second.text.count('id="item-') == 5 and 'rel="prev"' in second.text
    assert "not understood" in client.get("/staff/worklist?page=0").text
