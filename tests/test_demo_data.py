"""Issue 13: the demo shows what the dashboards do. Enough answers and decisions that the
clinic's figures are numbers, not "–", and the open check-in asks about a real meeting."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from server import demo
from server.extensions import db
from server.models import Clinic, FeedbackInvitation, InvitationStatus, PatientProfile, User
from server.models.base import utcnow
from server.services import feedback, take_home_figures
from server.services.local_time import oslo_today
from server.web import local_datetime
from tests.conftest import Client, sign_in_as


def test_the_demo_dashboards_show_figures(app: object) -> None:
    assert demo.seed() is True
    assert demo.seed() is False  # once
    clinic = db.session.scalar(select(Clinic).where(Clinic.name == demo.MAIN))
    assert clinic is not None
    today = oslo_today()
    board = feedback.dashboard(clinic.id, today - timedelta(days=364), today)
    assert board.invited is not None and board.answered is not None
    named = [m.named_mean for months in board.averages.values() for m in months
             if m.named_mean is not None]
    anonymous = [m.anonymous_mean for months in board.averages.values() for m in months
                 if m.anonymous_mean is not None]
    assert named and anonymous
    assert board.anonymous_comments  # a month with five anonymous answers and their comments
    figures = take_home_figures.for_clinic(clinic, today - timedelta(days=364), today)
    assert figures.requests is not None and figures.requests >= 5
    assert figures.median_days is not None


def test_the_demo_check_in_asks_about_a_past_meeting(app: object) -> None:
    demo.seed()
    kari = db.session.scalar(select(PatientProfile).join(User).where(
        User.display_name == "Kari Nordmann"))
    assert kari is not None
    invitation = db.session.scalar(select(FeedbackInvitation).where(
        FeedbackInvitation.patient_id == kari.id,
        FeedbackInvitation.status == InvitationStatus.OPEN,
        FeedbackInvitation.expires_at > utcnow()))
    assert invitation is not None and invitation.appointment is not None
    assert invitation.appointment.starts_at < utcnow()


def test_the_check_in_names_the_time_of_the_meeting(client: Client, app: Flask) -> None:
    demo.seed()
    kari = db.session.scalar(select(User).where(User.display_name == "Kari Nordmann"))
    assert kari is not None and kari.patient_profile is not None
    sign_in_as(client, kari)
    page = client.get("/me/feedback/").text
    invitation = db.session.scalar(select(FeedbackInvitation).where(
        FeedbackInvitation.patient_id == kari.patient_profile.id,
        FeedbackInvitation.status == InvitationStatus.OPEN,
        FeedbackInvitation.expires_at > utcnow()))
    assert invitation is not None and invitation.appointment is not None
    with app.test_request_context(headers={"Accept-Language": "en"}):
        when = local_datetime(invitation.appointment.starts_at, "long")
    assert f"How was your meeting on {when}?" in page


def test_the_demo_has_a_clinic_day_and_karis_crisis_plan(client: Client, app: Flask) -> None:
    from server.plans import crisis

    demo.seed()
    kari = db.session.scalar(select(PatientProfile).join(User).where(
        User.display_name == "Kari Nordmann"))
    assert kari is not None
    assert [v.version for v in crisis.versions(kari)] == [2, 1]
    sign_in_as(client, kari.user)
    page = client.get("/me/crisis-plan").text
    assert "Ikke ring moren min." in page and 'href="tel:+4794567890"' in page
    doctor = db.session.scalar(select(User).where(User.email == "lege@demo.folge.test"))
    assert doctor is not None
    staff = app.test_client()
    sign_in_as(staff, doctor)  # type: ignore[arg-type]
    today = staff.get("/staff/?who=all").text
    assert today.count('value="attended"') >= 2  # two (late at night three) have started


def test_the_demo_has_karis_goals_and_responsibility_group(client: Client, app: Flask) -> None:
    from server.plans import agenda, goals, meetings

    demo.seed()
    kari = db.session.scalar(select(PatientProfile).join(User).where(
        User.display_name == "Kari Nordmann"))
    assert kari is not None
    found = goals.of_patient(kari)
    assert len(found) == 2 and all(g.measures for g in found)
    [past] = meetings.past_meetings(kari)
    minutes = meetings.minutes(past.talk)
    assert len(minutes) == 4 and minutes[0].measure is not None and minutes[1].goal is not None
    assert len(past.people) >= 3
    upcoming = meetings.next_meeting(kari)
    assert upcoming is not None
    talk = agenda.for_appointment(upcoming)
    assert talk is not None and "boligsøknaden" in talk.text
    sign_in_as(client, kari.user)
    assert "Minutes from the meeting" in client.get(f"/me/appointments/{past.appointment.id}").text
