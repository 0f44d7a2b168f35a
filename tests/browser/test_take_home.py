"""Take-home requests in a real browser (issue 4).

A patient asks while the phone is offline: the request is kept on the phone,
sent once when the connection returns, and never again. A doctor decides it
from the worklist in another browser, and the patient reads the answer. Then
WCAG checks of the patient and staff take-home pages, in English and Bokmål.

Screenshots for review are written to /tmp/shots/ (never committed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    Abroad,
    PatientProfile,
    PickupPlace,
    RequestStatus,
    StaffRole,
    TakeHomeRequest,
)
from server.services import take_home
from tests.browser.conftest import choose_language
from tests.conftest import Factory, World

pytestmark = pytest.mark.browser

Axe = Callable[[Page], object]
SignIn = Callable[[Page, object], None]

WAITING_KEY = "folge-waiting-requests"
DECISION_REASON = "Vi godkjenner de fire første dagene. Resten tar vi på neste samtale."


def _requests_of(patient_id: int) -> list[TakeHomeRequest]:
    """The patient's stored requests, read fresh; ends the read so the server can write."""
    db.session.expire_all()
    return list(db.session.scalars(
        select(TakeHomeRequest).where(TakeHomeRequest.patient_id == patient_id)))


def _count_of(patient_id: int) -> int:
    count = db.session.scalar(select(func.count()).select_from(TakeHomeRequest)
                              .where(TakeHomeRequest.patient_id == patient_id))
    db.session.rollback()
    return int(count or 0)


def _waiting(page: Page) -> object:
    return page.evaluate(f"() => localStorage.getItem({WAITING_KEY!r})")


def _period(patient: PatientProfile, starts_in_days: int = 21, days: int = 7) -> tuple[date, date]:
    first = take_home.today_for(patient.clinic) + timedelta(days=starts_in_days)
    return first, first + timedelta(days=days - 1)


def _assert_lang(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)


# -- asking offline, sent once, decided ---------------------------------------------

def test_offline_request_is_sent_once_and_decided(
    page: Page, staff_context: BrowserContext, world: World, axe: Axe, shots: Path,
    sign_in_patient: SignIn, sign_in_staff: SignIn,
) -> None:
    patient_id = world.patient_x.id
    first, last = _period(world.patient_x)
    db.session.rollback()

    sign_in_patient(page, world.patient_x)
    page.goto("/me/take-home/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for take-home for a period")
    form = page.locator("main form[data-offline-queue]")
    expect(form).to_be_visible()
    waiting = page.locator("[data-waiting]")
    expect(waiting).to_be_hidden()

    # The connection drops; the patient fills in the form and presses "Send".
    page.context.set_offline(True)
    try:
        assert page.evaluate("() => navigator.onLine") is False
        page.get_by_label("First day").fill(first.isoformat())
        page.get_by_label("Last day").fill(last.isoformat())
        page.get_by_label("Reason", exact=True).select_option("travel")
        page.get_by_label("Tell us more (optional)").fill("Hyttetur med familien.")
        page.get_by_label("A pharmacy where I am travelling").check()
        page.get_by_label("Which pharmacy, or which town").fill("Vitusapotek Geilo")
        page.get_by_label("No, I stay in Norway").check()
        page.get_by_role("button", name="Send the request").click()

        expect(waiting).to_be_visible()
        expect(waiting.locator("[data-waiting-status]")).to_contain_text(
            "kept on this phone")
        # The message is at the top of a long form: it is brought into view and given
        # focus, so the patient pressing "Send" at the bottom sees (and hears) it.
        expect(waiting).to_be_in_viewport()
        expect(waiting).to_be_focused()
        expect(waiting.locator("[data-waiting-link]")).to_be_hidden()
        expect(page).to_have_url(re.compile(r"/me/take-home/new$"))  # no navigation
        stored_on_phone = page.evaluate(
            f"() => JSON.parse(localStorage.getItem({WAITING_KEY!r}))")
        assert len(stored_on_phone) == 1, stored_on_phone
        item = stored_on_phone[0]
        assert item["action"] == "/me/take-home/new"
        fields = dict(item["fields"])
        assert "csrf_token" not in fields  # a token is fetched fresh when sending
        assert fields["first_day"] == first.isoformat()
        assert fields["place"] == "travel_pharmacy"
        assert fields["client_key"]
        assert item["owner"] and item["owner"] == page.evaluate("() => document.body.dataset.owner")
        assert _count_of(patient_id) == 0  # nothing reached the server
        page.screenshot(path=str(shots / "take_home_form_waiting.png"), full_page=True)
        axe(page)
    finally:
        page.context.set_offline(False)

    # The connection returns: the script sends it once and says so, with a link.
    status = waiting.locator("[data-waiting-status]")
    expect(status).to_have_text("Your request is sent.")
    link = waiting.locator("[data-waiting-link] a")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", re.compile(r"^/me/take-home/\d+$"))
    assert _waiting(page) is None
    stored = _requests_of(patient_id)
    assert len(stored) == 1
    request = stored[0]
    request_id = request.id
    assert request.client_key == fields["client_key"]
    assert (request.first_day, request.last_day) == (first, last)
    assert request.place is PickupPlace.TRAVEL_PHARMACY
    assert request.place_name == "Vitusapotek Geilo"
    assert request.explanation == "Hyttetur med familien."
    assert request.status is RequestStatus.SUBMITTED
    assert not request.over_usual_max and not request.short_notice
    db.session.rollback()
    expect(link).to_have_attribute("href", f"/me/take-home/{request_id}")

    # Nothing is sent again: not at the next "online" ...
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("Your request is sent.")
    assert _waiting(page) is None
    assert _count_of(patient_id) == 1

    # ... the link leads to the request ...
    link.click()
    expect(page).to_have_url(re.compile(rf"/me/take-home/{request_id}$"))
    expect(page.locator("main .status").first).to_have_text("Sent")

    # ... and not when the form page is loaded again.
    page.goto("/me/take-home/new")
    expect(form).to_be_visible()
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(waiting).to_be_hidden()
    assert _waiting(page) is None
    assert _count_of(patient_id) == 1

    # Even if the same request is sent again (say, from a second tab), the client key
    # makes the server find the first one instead of storing a second.
    page.evaluate("([key, items]) => localStorage.setItem(key, JSON.stringify(items))",
                  [WAITING_KEY, stored_on_phone])
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(status).to_have_text("Your request is sent.")
    expect(link).to_have_attribute("href", f"/me/take-home/{request_id}")
    assert _waiting(page) is None
    assert _count_of(patient_id) == 1

    # A doctor decides it from the worklist, in another browser.
    staff = staff_context.new_page()
    sign_in_staff(staff, world.doctor_a)
    staff.goto("/staff/worklist")
    item_on_list = staff.locator("li.work-take-home").filter(has_text="Xena Pasient")
    expect(item_on_list).to_have_count(1)
    expect(item_on_list).to_contain_text("Sent")
    item_on_list.locator(f'a[href$="/staff/take-home/{request_id}"]').click()
    expect(staff).to_have_url(re.compile(rf"/staff/take-home/{request_id}$"))
    expect(staff.get_by_role("heading", level=1)).to_have_text(
        "Take-home request from Xena Pasient")
    # Opening it changes nothing for the patient; "Start review" does.
    expect(staff.locator("main .status").first).to_have_text("Sent")
    expect(staff.locator("main dl.facts").first).to_contain_text("Hyttetur med familien.")
    staff.get_by_role("button", name="Start review: tell the patient").click()
    expect(staff.locator("main .status").first).to_have_text("Being looked at")
    staff.screenshot(path=str(shots / "staff_take_home_request.png"), full_page=True)

    approved_last = first + timedelta(days=3)
    # The days of a part approval are shown only once "Approve in part" is chosen.
    expect(staff.get_by_label("Approved to (for a part approval)")).to_be_hidden()
    staff.get_by_label("Approve in part").check()
    expect(staff.get_by_label("Approved to (for a part approval)")).to_be_visible()
    staff.get_by_label("Reason, in plain words (the patient reads this)").fill(DECISION_REASON)
    staff.get_by_label("Approved to (for a part approval)").fill(approved_last.isoformat())
    staff.get_by_role("button", name="Save the decision").click()
    expect(staff).to_have_url(re.compile(rf"/staff/take-home/{request_id}$"))
    expect(staff.locator(".flash-success")).to_contain_text("The decision is saved.")
    expect(staff.locator("main .status").first).to_have_text("Partly approved")

    decided = _requests_of(patient_id)
    assert len(decided) == 1
    assert decided[0].status is RequestStatus.PARTLY_APPROVED
    assert decided[0].decided_by_id == world.doctor_a.id
    assert (decided[0].approved_first_day, decided[0].approved_last_day) == (first, approved_last)
    db.session.rollback()

    # The patient reads the answer.
    page.goto(f"/me/take-home/{request_id}")
    expect(page.locator("main .status").first).to_have_text("Partly approved")
    answer = page.locator("section[aria-labelledby='decision-title']")
    expect(answer).to_contain_text(DECISION_REASON)
    expect(answer).to_contain_text("4 days")
    page.screenshot(path=str(shots / "take_home_decision.png"), full_page=True)
    axe(page)

    # The request is still one, and nothing waits on the phone.
    assert _count_of(patient_id) == 1
    assert _waiting(page) is None


# -- accessibility -------------------------------------------------------------------------

def test_a_request_waiting_for_another_person_is_never_sent_or_shown(
    page: Page, world: World, sign_in_patient: SignIn,
) -> None:
    """A shared phone: what someone else left waiting is not sent under my name."""
    first, last = _period(world.patient_y)
    db.session.rollback()
    sign_in_patient(page, world.patient_y)
    page.goto("/me/take-home/new")
    left_behind = [{"key": "k" * 32, "owner": "someone-else", "action": "/me/take-home/new",
                    "savedAt": 0, "fields": [["client_key", "k" * 32],
                                             ["first_day", first.isoformat()],
                                             ["last_day", last.isoformat()], ["reason", "travel"],
                                             ["place", "pharmacy"], ["abroad", "no"],
                                             ["explanation", "Someone else's words"]]}]
    page.evaluate("([key, items]) => localStorage.setItem(key, JSON.stringify(items))",
                  [WAITING_KEY, left_behind])
    page.reload()
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("[data-waiting]")).to_be_hidden()
    expect(page.locator("main")).not_to_contain_text("Someone else's words")
    assert page.locator("#explanation").input_value() == ""
    assert _count_of(world.patient_y.id) == 0
    assert "someone-else" in str(_waiting(page))  # kept for its owner, untouched


def _decided_request(make: Factory, world: World) -> int:
    """A partly approved request, with a pickup plan, for the patient's pages."""
    take_home.save_plan(world.patient_x, take_home.PlanInput(
        place=PickupPlace.PHARMACY, place_name="Apotek 1 Torget", weekdays=[0, 3],
        days_per_pickup=3, note="Ring om du blir forsinket."), world.doctor_a)
    request = make.take_home(world.patient_x, starts_in_days=30, days=6,
                             explanation="Jobbreise til Bergen.")
    take_home.decide(request, take_home.DecisionInput(
        outcome=take_home.Outcome.PARTLY, reason=DECISION_REASON,
        next_time="Kom på samtalene de neste ukene.",
        last_day=request.first_day + timedelta(days=3)), world.doctor_a)
    request_id = request.id
    db.session.rollback()
    return request_id


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_patient_take_home_pages_are_accessible(
    page: Page, world: World, make: Factory, axe: Axe, sign_in_patient: SignIn, lang: str,
) -> None:
    request_id = _decided_request(make, world)
    page.goto("/sign-in")
    choose_language(page, lang)
    sign_in_patient(page, world.patient_x)

    page.goto("/me/take-home/")
    _assert_lang(page, lang)
    expect(page.locator("#plan-title")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Apotek 1 Torget")
    expect(page.locator(f'main a[href$="/me/take-home/{request_id}"]')).to_have_count(1)
    axe(page)

    page.goto("/me/take-home/new")
    first_day = page.locator('input[name="first_day"]')
    expect(first_day).to_be_visible()
    axe(page)
    page.locator("main form button[type=submit]").click()  # nothing filled in
    expect(page.locator(".error-summary")).to_be_visible()
    expect(first_day).to_have_attribute("aria-invalid", "true")
    expect(page.locator('select[name="reason"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("fieldset#place")).to_have_class(re.compile(r"\bfield-error\b"))
    _assert_lang(page, lang)
    axe(page)

    # Beyond the usual rules (short notice, longer than usual): kind advice, not a refusal.
    first, last = _period(world.patient_x, starts_in_days=2, days=20)
    first_day.fill(first.isoformat())
    page.locator('input[name="last_day"]').fill(last.isoformat())
    page.locator('select[name="reason"]').select_option("holiday")
    page.locator('input[name="place"][value="pharmacy"]').check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".notice[role=alert]")).to_be_visible()
    expect(page.locator('input[name="ask_anyway"]')).to_have_value("1")
    _assert_lang(page, lang)
    axe(page)
    assert _count_of(world.patient_x.id) == 1  # only the decided one

    page.goto("/me/take-home/change")
    expect(page.locator('select[name="change"]')).to_be_visible()
    axe(page)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('textarea[name="explanation"]')).to_have_attribute("aria-invalid", "true")
    _assert_lang(page, lang)
    axe(page)

    page.goto(f"/me/take-home/{request_id}")
    expect(page.locator("section[aria-labelledby='decision-title']")).to_contain_text(
        DECISION_REASON)
    expect(page.locator("section[aria-labelledby='storage-title'] form")).to_be_visible()
    _assert_lang(page, lang)
    axe(page)


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_staff_take_home_pages_are_accessible(
    page: Page, staff_context: BrowserContext, world: World, make: Factory, axe: Axe,
    sign_in_staff: SignIn, lang: str,
) -> None:
    earlier_id = _decided_request(make, world)
    request = make.take_home(world.patient_x, starts_in_days=60, days=5, abroad=Abroad.SCHENGEN,
                             explanation="Ferie i Spania.", note="Jeg har låsbart skrin.")
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    request_id, patient_id, clinic_id = request.id, world.patient_x.id, world.clinic_a.id
    db.session.rollback()

    page.goto("/staff/sign-in")
    choose_language(page, lang)
    sign_in_staff(page, world.doctor_a)

    page.goto(f"/staff/take-home/{request_id}")
    _assert_lang(page, lang)
    expect(page.locator('input[name="outcome"]')).to_have_count(3)
    expect(page.locator(f'main table a[href$="/staff/take-home/{earlier_id}"]')).to_have_count(1)
    axe(page)
    page.locator("main form[action$='/decide'] button[type=submit]").click()  # nothing chosen
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('textarea[name="reason"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("fieldset#outcome")).to_have_class(re.compile(r"\bfield-error\b"))
    _assert_lang(page, lang)
    axe(page)
    db.session.expire_all()
    undecided = db.session.get(TakeHomeRequest, request_id)
    assert undecided is not None and undecided.decided_at is None  # nothing was stored
    db.session.rollback()

    page.goto(f"/staff/patients/{patient_id}/pickup-plan")
    expect(page.locator('input[name="weekdays"]')).to_have_count(7)
    axe(page)

    page.goto("/staff/take-home/figures")
    expect(page.locator("main table.figures").first).to_be_visible()
    _assert_lang(page, lang)
    axe(page)

    # The clinic's rules and the figures by decider: a clinic administrator's pages.
    page = staff_context.new_page()
    page.goto("/staff/sign-in")
    choose_language(page, lang)
    sign_in_staff(page, admin)
    page.goto(f"/staff/clinics/{clinic_id}/take-home")
    _assert_lang(page, lang)
    expect(page.locator('textarea[name="rules_text"]')).to_be_visible()
    axe(page)
    page.locator('input[name="notice_days"]').fill("")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('input[name="notice_days"]')).to_have_attribute("aria-invalid", "true")
    _assert_lang(page, lang)
    axe(page)

    page.goto("/staff/take-home/figures")
    expect(page.locator("main table.figures").first).to_be_visible()
    axe(page)

