"""The care team in real Chromium (issue 11): the patient finds the coordinator and taps to
call; a doctor hands over to another doctor, who accepts; the patient sees the change; the
patient moves to the second clinic, which accepts, and the first clinic's nurse then gets 404
on the patient's new appointment. axe-core on every new page in nb, nn and en."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from server.care_team import team
from server.extensions import db
from server.models import RelativeScope, StaffRole
from server.services import relatives
from server.services.local_time import oslo_today
from tests.browser.conftest import TIMEOUT_MS, choose_language
from tests.conftest import CareTeam, Factory, World

Axe = Callable[[Page], Any]
SignIn = Callable[[Page, Any], None]


@pytest.fixture
def kari_team(world: World, make: Factory) -> CareTeam:
    return make.care_team(world)


def wide(browser: Browser, live_server: str) -> BrowserContext:
    """A staff member's PC screen."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1366, "height": 900},
                                  locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_my_team_handover_and_a_move_between_clinics(
        page: Page, browser: Browser, live_server: str, world: World, make: Factory,
        kari_team: CareTeam, sign_in_patient: SignIn, sign_in_staff: SignIn, axe: Axe,
        shots: Path) -> None:
    second_doctor = make.staff(world.clinic_a, StaffRole.DOCTOR, name="Doktor To")
    doctor_b = make.staff(world.clinic_b, StaffRole.DOCTOR, name="Lege Vest")
    make.staff(world.clinic_b, StaffRole.COORDINATOR, name="Koordinator Vest")
    handover_id = kari_team.handover.id
    patient_id = world.patient_x.id
    db.session.rollback()

    # 1. The patient opens My team: the coordinator first, a number to tap.
    sign_in_patient(page, world.patient_x)
    page.get_by_role("link", name="See who does what").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My team")
    first = page.locator("li.member").first
    expect(first).to_contain_text("Koordinator A")
    expect(first).to_contain_text("Ask this person when you are unsure")
    expect(first.get_by_role("link", name="Call 22 00 00 00")).to_have_attribute(
        "href", "tel:22000000")
    expect(page.locator(".emergency a[href='tel:113']")).to_be_visible()
    page.screenshot(path=str(shots / "team_patient.png"), full_page=True)
    axe(page)

    # 2. The doctor withdraws the waiting handover and hands over to a second doctor instead.
    staff = wide(browser, live_server)
    doctor = staff.new_page()
    sign_in_staff(doctor, world.doctor_a)
    doctor.goto(f"/staff/handovers/{handover_id}")
    axe(doctor)
    doctor.get_by_role("button", name="Withdraw the handover").click()
    doctor.goto(f"/staff/patients/{patient_id}/team")
    axe(doctor)
    doctor.screenshot(path=str(shots / "team_staff.png"), full_page=True)
    doctor.locator("li.member", has_text="Doktor A").get_by_role(
        "link", name="Hand over Medication and take-home").click()
    axe(doctor)
    doctor.locator('select[name="to"]').select_option(label="Doktor To")
    doctor.locator('textarea[name="note"]').fill("Jeg har permisjon fra januar.")
    doctor.get_by_role("button", name="Propose the handover").click()
    expect(doctor.locator(".flash-success")).to_contain_text("stays responsible")

    # ... the patient sees it is being handed over, and who still holds it.
    page.reload()
    expect(page.locator("main")).to_contain_text(
        "Being handed over from Doktor A (lege) to Doktor To (doctor).")

    # ... the second doctor finds it on the worklist and accepts.
    receiver = staff.new_page()
    staff.clear_cookies()
    sign_in_staff(receiver, second_doctor)
    receiver.goto("/staff/worklist")
    receiver.get_by_role("link", name="you are asked to take over").click()
    axe(receiver)
    receiver.get_by_role("button", name="I accept").click()
    expect(receiver.locator(".flash-success")).to_contain_text("Accepted")

    # 3. The patient sees the change.
    page.reload()
    holder = page.locator("li.member", has_text="Doktor To")
    expect(holder).to_contain_text("Medication and take-home")
    expect(page.locator("main")).not_to_contain_text("Being handed over")
    page.get_by_role("link", name="Who was responsible for what, and when").click()
    expect(page.locator("tbody tr", has_text="Doktor A")).not_to_have_count(0)
    axe(page)

    # 4. A move to the second clinic, proposed by the coordinator, accepted there.
    staff.clear_cookies()
    coordinator = staff.new_page()
    sign_in_staff(coordinator, world.coordinator_a)
    coordinator.goto(f"/staff/patients/{patient_id}/team")
    coordinator.get_by_role("link", name="Propose a move to another clinic").click()
    axe(coordinator)
    coordinator.locator('select[name="to_clinic"]').select_option(label="Klinikk B (Helse Test HF)")
    coordinator.locator('input[name="proposed_date"]').fill(
        (oslo_today() + timedelta(days=7)).isoformat())
    coordinator.locator('input[name="consent_method"][value="in_person"]').check()
    coordinator.locator('input[name="consent_on"]').fill(oslo_today().isoformat())
    coordinator.get_by_role("button", name="Propose the move").click()
    expect(coordinator.locator(".flash-success")).to_contain_text("The patient is told")
    axe(coordinator)
    page.goto("/me/team/")
    expect(page.locator(".notice")).to_contain_text("Your follow-up is being moved")
    axe(page)

    staff.clear_cookies()
    west = staff.new_page()
    sign_in_staff(west, doctor_b)
    west.goto("/staff/worklist")
    west.get_by_role("link", name="a move to your clinic").click()
    axe(west)
    west.locator('select[name="doctor"]').select_option(label="Lege Vest")
    west.locator('select[name="coordinator"]').select_option(label="Koordinator Vest")
    west.get_by_role("button", name="Accept the move").click()
    expect(west.locator("h1")).to_contain_text("Care team: Xena Pasient")
    # The new clinic books an appointment for the patient.
    west.goto(f"/staff/patients/{patient_id}/appointments/new")
    west.locator('input[name="day"]').fill((oslo_today() + timedelta(days=10)).isoformat())
    west.locator('input[name="at"]').fill("11:00")
    west.locator('input[name="service_name"]').fill("Vestbyen")
    west.locator("main form button[type=submit]").click()
    expect(west.locator(".flash-success")).to_be_visible()
    new_appointment = west.url

    # The first clinic's nurse no longer reaches the patient's new appointment.
    staff.clear_cookies()
    nurse_a = make.staff(world.clinic_a, StaffRole.NURSE, name="Sykepleier A")
    db.session.rollback()
    old = staff.new_page()
    sign_in_staff(old, nurse_a)
    response = old.goto(new_appointment)
    assert response is not None and response.status == 404
    response = old.goto(f"/staff/patients/{patient_id}")
    assert response is not None and response.status == 404
    staff.close()

    # The patient sees the new team.
    page.goto("/me/team/")
    expect(page.locator("li.member").first).to_contain_text("Koordinator Vest")
    axe(page)


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_every_care_team_page_is_accessible(
        page: Page, browser: Browser, live_server: str, world: World, make: Factory,
        kari_team: CareTeam, sign_in_patient: SignIn, sign_in_staff: SignIn, axe: Axe,
        lang: str) -> None:
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    invitation = relatives.invite(world.patient_x, relatives.InviteInput(
        "Rita", "søster", phone=world.relative.phone or "",
        scopes=[RelativeScope.CARE_TEAM.value]))
    relatives.accept(invitation, world.relative)
    contact_id, patient_id, handover_id = kari_team.gp.external_contact_id, world.patient_x.id, \
        kari_team.handover.id
    clinic_id = world.clinic_a.id
    db.session.rollback()

    sign_in_patient(page, world.patient_x)
    choose_language(page, lang)
    for url in ("/me/team/", "/me/team/history"):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        axe(page)

    rita = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                               locale={"nb": "nb-NO", "nn": "nn-NO", "en": "en-GB"}[lang])
    rita.set_default_timeout(TIMEOUT_MS)
    relative_page = rita.new_page()
    sign_in_patient(relative_page, world.relative)
    relative_page.goto(f"/relative/patients/{patient_id}/team")
    expect(relative_page.locator(".emergency")).to_be_visible()
    axe(relative_page)
    rita.close()

    staff = wide(browser, live_server)
    admin_page = staff.new_page()
    sign_in_staff(admin_page, admin)
    choose_language(admin_page, lang)
    for url in (f"/staff/patients/{patient_id}/team",
                f"/staff/patients/{patient_id}/team/handover",
                f"/staff/handovers/{handover_id}", f"/staff/clinics/{clinic_id}/contacts",
                f"/staff/contacts/{contact_id}", f"/staff/clinics/{clinic_id}/areas",
                f"/staff/clinics/{clinic_id}/team-settings", "/staff/transfers",
                "/staff/worklist", f"/staff/patients/{patient_id}/transfer"):
        admin_page.goto(url)
        expect(admin_page.locator("html")).to_have_attribute("lang", lang)
        axe(admin_page)
    # A form with errors: the error summary and the marked fields pass too.
    admin_page.goto(f"/staff/clinics/{clinic_id}/contacts")
    admin_page.locator('input[name="phone"]').fill("ring meg")
    admin_page.locator("main form button[type=submit]").click()
    expect(admin_page.locator(".error-summary")).to_be_visible()
    expect(admin_page.locator('input[name="phone"]')).to_have_attribute("aria-invalid", "true")
    axe(admin_page)
    staff.close()
    assert team.holder(patient_id, "medication") is not None
