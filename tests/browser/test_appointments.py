"""Appointments in a real browser: answering, the calendar file, the copy kept on
the phone (and its removal on sign-out), and WCAG checks of the appointment pages
for patients and staff.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from server.extensions import db
from server.models import Appointment, Attendance, MessageStatus, OutboxMessage, PatientAnswer
from server.models.base import utcnow
from server.services import appointments
from tests.browser.conftest import TIMEOUT_MS, choose_language
from tests.conftest import Factory, World

pytestmark = pytest.mark.browser

Axe = Callable[[Page], object]
SignIn = Callable[[Page, object], None]

SERVICE_NAME = "Legekontoret på Torget"  # Factory.appointment's default
KEEP_KEY = "folge-keep-appointments"

#: Resolves once a service worker controls the page, false after 5 s.
WAIT_FOR_CONTROLLER = """() => new Promise((resolve) => {
  if (navigator.serviceWorker.controller) return resolve(true);
  navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
  setTimeout(() => resolve(false), 5000);
})"""

#: What the service worker keeps for this person: personal caches with their paths,
#: and whether the "keep" flag is set.
KEPT = """async () => {
  const personal = {};
  for (const name of await caches.keys()) {
    if (!name.startsWith("folge-personal")) continue;
    personal[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
  }
  const flag = await (await caches.open("folge-settings")).match("/__keep");
  return {personal, flag: Boolean(flag)};
}"""

#: Polls (bounded, 5 s) until no personal cache and no "keep" flag are left.
WAIT_UNTIL_FORGOTTEN = """async () => {
  const left = async () => (await caches.keys()).some((n) => n.startsWith("folge-personal"))
    || Boolean(await (await caches.open("folge-settings")).match("/__keep"));
  for (let i = 0; i < 100; i++) {
    if (!(await left())) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}"""


def wait_for_service_worker(page: Page) -> None:
    """Wait until the service worker controls the page (reload once if claim() lost a race)."""
    if not page.evaluate(WAIT_FOR_CONTROLLER):
        page.reload()  # pragma: no cover - only when claim() lost the race
        assert page.evaluate(WAIT_FOR_CONTROLLER), "no service worker took control of the page"


def _upcoming(make: Factory, world: World, **fields: object) -> int:
    appointment = make.appointment(world.patient_x, **fields)
    appointment_id = appointment.id
    db.session.rollback()  # hold no read transaction while the server writes
    return appointment_id


def _stored(appointment_id: int) -> Appointment:
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment_id)
    assert appointment is not None
    return appointment


@pytest.fixture
def second_context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """Another person's browser (English, phone-sized), closed before the server stops."""
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  device_scale_factor=1, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


# -- answering -------------------------------------------------------------------

def test_patient_confirms_an_appointment(page: Page, world: World, make: Factory,
                                         sign_in_patient: SignIn) -> None:
    appointment_id = _upcoming(make, world)
    sign_in_patient(page, world.patient_x)
    page.goto("/me/appointments/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your appointments")
    page.locator(f'.appointment h2 a[href$="/me/appointments/{appointment_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/me/appointments/{appointment_id}$"))
    expect(page.locator("p.answer")).to_contain_text("You have not answered yet.")

    page.get_by_role("button", name="I'm coming").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Thank you. The clinic can see that you are coming.")
    expect(page.locator("p.answer")).to_contain_text("You said you are coming.")
    expect(page).to_have_url(re.compile(rf"/me/appointments/{appointment_id}$"))

    stored = _stored(appointment_id)
    assert stored.answer is PatientAnswer.CONFIRMED
    assert stored.answered_at is not None
    assert stored.call_me is False


def test_patient_cannot_come_and_asks_for_a_call(
    page: Page, second_context: BrowserContext, world: World, make: Factory,
    sign_in_patient: SignIn, sign_in_staff: SignIn,
) -> None:
    appointment_id = _upcoming(make, world)
    sign_in_patient(page, world.patient_x)
    page.goto(f"/me/appointments/{appointment_id}")
    page.get_by_role("link", name="I can't come").click()
    expect(page).to_have_url(re.compile(rf"/me/appointments/{appointment_id}/cannot-come$"))
    page.get_by_label("Reason (if you want to tell us)").fill("Jeg er syk.")
    page.get_by_label("Call me to find a new time").check()
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(rf"/me/appointments/{appointment_id}$"))
    # Who calls, from which number, by when (no coordinator yet: the clinic).
    expect(page.locator(".flash-success")).to_contain_text(
        "Thank you for telling us. Your clinic will call you from 22 00 00 00, at the latest")
    expect(page.locator("p.answer")).to_contain_text("You said you cannot come.")
    expect(page.locator("p.answer")).to_contain_text("You asked us to call you.")

    stored = _stored(appointment_id)
    assert stored.answer is PatientAnswer.CANNOT_COME
    assert stored.call_me is True
    assert stored.answer_reason == "Jeg er syk."
    db.session.rollback()

    # The clinic sees it at once on the worklist.
    staff = second_context.new_page()
    sign_in_staff(staff, world.doctor_a)
    staff.goto("/staff/worklist")
    item = staff.locator("tr.work-answer").filter(has_text="Xena Pasient")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Answer: Cannot come")
    expect(item).to_contain_text("wants a call")
    expect(item).to_contain_text("Reason given: Jeg er syk.")
    expect(item.locator(f'a[href$="/staff/appointments/{appointment_id}"]')).to_be_visible()


def test_calendar_file_is_discreet(page: Page, world: World, make: Factory,
                                   sign_in_patient: SignIn) -> None:
    appointment_id = _upcoming(make, world, starts_in=timedelta(days=3))
    starts_at = _stored(appointment_id).starts_at.astimezone(UTC)
    db.session.rollback()
    sign_in_patient(page, world.patient_x)
    page.goto(f"/me/appointments/{appointment_id}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to my calendar").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"appointment-{appointment_id}.ics"
    with open(download.path(), encoding="utf-8", newline="") as f:
        raw = f.read()
    text = raw.replace("\r\n ", "")  # unfold long lines (RFC 5545)
    lines = text.split("\r\n")
    assert "BEGIN:VEVENT" in lines
    assert "SUMMARY:Appointment" in lines
    assert f"DTSTART:{starts_at:%Y%m%dT%H%M%S}Z" in lines, text
    # Nothing that tells others whom the patient sees, or about what.
    for secret in (SERVICE_NAME, "Legekontoret", "Dr. Berg", "bankkortet", "DESCRIPTION"):
        assert secret not in text, f"{secret!r} is in the discreet calendar file"


# -- the copy kept on this phone ---------------------------------------------------

def _keep_a_copy(page: Page) -> None:
    """On /me/appointments/: tick "keep", and check the worker really kept the list."""
    wait_for_service_worker(page)
    section = page.locator("[data-offline-copy]")
    expect(section).to_be_visible()  # hidden until offline-copy.js runs
    status = section.locator("[data-offline-status]")
    expect(status).to_have_text("No copy is kept on this phone.")
    toggle = page.get_by_label("Keep my appointments on this phone")
    expect(toggle).not_to_be_checked()
    toggle.check()
    expect(status).to_have_text("A copy is kept on this phone.")
    assert page.evaluate(f"() => localStorage.getItem({KEEP_KEY!r})") == "1"
    # The status also appears after a 5 s time-out, so look at the caches themselves.
    kept = page.evaluate(KEPT)
    assert kept == {"personal": {"folge-personal": ["/me/appointments/"]}, "flag": True}, kept


def _expect_offline_page(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("No connection")
    expect(page.get_by_text(SERVICE_NAME)).to_have_count(0)


def test_appointments_kept_on_this_phone_can_be_read_offline(
    page: Page, world: World, make: Factory, sign_in_patient: SignIn,
) -> None:
    _upcoming(make, world)
    sign_in_patient(page, world.patient_x)
    page.goto("/me/appointments/")
    _keep_a_copy(page)
    page.reload()  # the reload (online) refreshes the copy and is controlled by the worker
    wait_for_service_worker(page)

    page.context.set_offline(True)
    try:
        response = page.goto("/me/appointments/")
        assert response is not None and response.ok
        expect(page.get_by_role("heading", level=1)).to_have_text("Your appointments")
        expect(page.locator(".appointment").first).to_contain_text(SERVICE_NAME)
        expect(page.get_by_text("No connection")).to_have_count(0)
        # The copy still shows that it is kept, so it can be turned off again.
        expect(page.get_by_label("Keep my appointments on this phone")).to_be_checked()
    finally:
        page.context.set_offline(False)


def test_without_a_kept_copy_offline_shows_the_offline_page(
    page: Page, world: World, make: Factory, sign_in_patient: SignIn,
) -> None:
    _upcoming(make, world)
    sign_in_patient(page, world.patient_x)
    page.goto("/me/appointments/")
    expect(page.locator(".appointment").first).to_contain_text(SERVICE_NAME)
    wait_for_service_worker(page)
    expect(page.locator("[data-offline-status]")).to_have_text("No copy is kept on this phone.")
    page.reload()  # a controlled navigation online: must not store anything either
    wait_for_service_worker(page)
    assert page.evaluate(KEPT) == {"personal": {}, "flag": False}

    page.context.set_offline(True)
    try:
        page.goto("/me/appointments/")
        _expect_offline_page(page)
    finally:
        page.context.set_offline(False)


def test_signing_out_deletes_the_kept_copy(
    page: Page, world: World, make: Factory, sign_in_patient: SignIn,
) -> None:
    _upcoming(make, world)
    sign_in_patient(page, world.patient_x)
    page.goto("/me/appointments/")
    _keep_a_copy(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    assert page.evaluate(WAIT_UNTIL_FORGOTTEN), page.evaluate(KEPT)
    assert page.evaluate(f"() => localStorage.getItem({KEEP_KEY!r})") is None

    page.context.set_offline(True)
    try:
        page.goto("/me/appointments/")
        _expect_offline_page(page)
    finally:
        page.context.set_offline(False)


# -- accessibility -------------------------------------------------------------------

def _past(make: Factory, world: World) -> Appointment:
    """An appointment that is over (the service only records future ones, so move it)."""
    appointment = make.appointment(world.patient_x, service_name="Fysioterapeuten")
    appointment.starts_at = utcnow() - timedelta(days=3)
    db.session.commit()
    return appointment


def _assert_lang(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_patient_appointment_pages_are_accessible(
    page: Page, world: World, make: Factory, axe: Axe, sign_in_patient: SignIn, lang: str,
) -> None:
    appointment_id = _upcoming(make, world, cancel_by=utcnow() + timedelta(days=1))
    _past(make, world)
    db.session.rollback()
    page.goto("/sign-in")
    choose_language(page, lang)
    sign_in_patient(page, world.patient_x)

    page.goto("/me/appointments/")
    _assert_lang(page, lang)
    expect(page.locator(".appointment")).to_have_count(1)
    expect(page.locator("[data-offline-copy]")).to_be_visible()
    expect(page.locator("[data-offline-status]")).not_to_be_empty()
    axe(page)

    page.goto(f"/me/appointments/{appointment_id}")
    expect(page.locator("dl.facts")).to_contain_text(SERVICE_NAME)
    axe(page)

    page.goto(f"/me/appointments/{appointment_id}/cannot-come")
    reason = page.locator('textarea[name="reason"]')
    expect(reason).to_be_visible()
    axe(page)
    # The same form with an error. The browser would stop typing at maxlength, so the
    # limit is taken off to let the server's check answer.
    reason.evaluate("(el) => el.removeAttribute('maxlength')")
    reason.fill("x" * 501)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_attribute("aria-describedby", "reason-error")
    _assert_lang(page, lang)
    axe(page)
    stored = _stored(appointment_id)
    assert stored.answer is PatientAnswer.NONE  # nothing was stored
    db.session.rollback()

    page.goto("/me/appointments/past")
    expect(page.locator(".appointment-list > li")).to_have_count(1)
    expect(page.locator(".appointment-list")).to_contain_text("Fysioterapeuten")
    axe(page)

    page.goto("/me/reminders")
    expect(page.locator('input[name="way"]')).to_have_count(5)
    expect(page.locator('select[name="first"]')).to_be_hidden()  # ranked order under "More choices"
    page.locator("main details summary").first.click()
    expect(page.locator('select[name="first"]')).to_be_visible()
    axe(page)

    page.goto("/me/push")
    _assert_lang(page, lang)
    axe(page)


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_staff_appointment_pages_are_accessible(
    page: Page, world: World, make: Factory, axe: Axe, sign_in_staff: SignIn, lang: str,
) -> None:
    upcoming = make.appointment(world.patient_x, cancel_by=utcnow() + timedelta(days=1))
    appointments.answer(upcoming, PatientAnswer.CANNOT_COME, "Jeg er bortreist.", call_me=True)
    past = _past(make, world)
    appointments.mark_attendance(past, Attendance.MISSED, world.doctor_a)  # an outreach task
    letter = db.session.query(OutboxMessage).filter_by(appointment_id=upcoming.id).first()
    assert letter is not None
    letter.status = MessageStatus.LETTER_QUEUED
    letter.sent_at = utcnow()
    db.session.commit()
    patient_id, appointment_id = world.patient_x.id, upcoming.id
    db.session.rollback()

    page.goto("/staff/sign-in")
    choose_language(page, lang)
    sign_in_staff(page, world.doctor_a)

    page.goto(f"/staff/patients/{patient_id}")
    _assert_lang(page, lang)
    expect(page.locator("main table tbody tr")).to_have_count(2)
    axe(page)

    page.goto(f"/staff/patients/{patient_id}/appointments/new")
    expect(page.locator('input[name="day"]')).to_be_visible()
    axe(page)
    page.locator("main form button[type=submit]").click()  # nothing filled in
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('input[name="day"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator('input[name="service_name"]')).to_have_attribute("aria-invalid", "true")
    _assert_lang(page, lang)
    axe(page)

    page.goto(f"/staff/appointments/{appointment_id}")
    expect(page.locator("main table tbody tr").first).to_be_visible()  # its messages
    axe(page)

    page.goto("/staff/worklist")
    expect(page.locator("tr.work-answer")).to_have_count(1)
    expect(page.locator("tr.work-outreach")).to_have_count(1)
    axe(page)

    page.goto("/staff/letters")
    expect(page.locator('main input[name="message_id"]')).to_have_count(1)
    axe(page)

    page.goto("/staff/appointments/import")
    expect(page.locator('input[name="file"]')).to_be_visible()
    axe(page)
    page.locator("main form button[type=submit]").click()  # no file chosen
    expect(page.locator(".error-summary")).to_be_visible()
    _assert_lang(page, lang)
    axe(page)
