"""Relatives (pårørende) in a real browser.

A patient invites a relative with two scopes; the relative accepts through the
link in the SMS (in a browser of their own), sees exactly those two things and
nothing else, and tells the care team what they notice. A doctor reads it on the
worklist and on the patient's relatives page. The patient ends the access, and
the relative's very next click is refused. Then WCAG checks of every relatives
page (patient, public invitation, relative, staff), in English and Bokmål.

Screenshots for review are written to /tmp/shots/ (never committed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from server.extensions import db
from server.models import (
    ObservationKind,
    RelativeAccess,
    RelativeInvitation,
    RelativeObservation,
    RelativeScope,
    UserSession,
)
from server.services import relatives
from server.services.relatives import InviteInput
from tests.browser.conftest import LOCALES, TIMEOUT_MS
from tests.conftest import CapturingSms, Factory, World

pytestmark = pytest.mark.browser

Axe = Callable[[Page], object]
SignIn = Callable[[Page, object], None]
NewContext = Callable[[str], BrowserContext]

RELATIVE_NUMBER_TYPED = "950 00 001"
RELATIVE_NUMBER = "+4795000001"
OBSERVATION = "Hun har sovet dårlig den siste uka og glemmer å spise frokost."
APPOINTMENT_PLACE = "Legekontoret på Torget"
INVITE_URL = re.compile(r"https?://[^\s]+/invite/[A-Za-z0-9_-]+")


@pytest.fixture
def new_context(browser: Browser, live_server: str) -> Iterator[NewContext]:
    """More browsers (the relative's, the doctor's), each with its own cookies and
    language, all closed before the server stops."""
    opened: list[BrowserContext] = []

    def make(lang: str = "en") -> BrowserContext:
        context = browser.new_context(base_url=live_server,
                                      viewport={"width": 390, "height": 844},
                                      device_scale_factor=1, locale=LOCALES[lang])
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def _invite_link(sms: CapturingSms, phone: str, live_server: str) -> str:
    """The link in the newest invitation SMS to ``phone``, on the live server's host."""
    for message in reversed(sms.sent):
        if message.to == phone:
            found = INVITE_URL.search(message.body)
            if found:
                return live_server + urlsplit(found.group(0).rstrip(".,")).path
    raise AssertionError(f"no invitation was sent to {phone}: {sms.sent}")


def _other_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _sign_in_relative(page: Page, sms: CapturingSms, phone: str) -> None:
    """Sign in as a relative: number, then SMS code; a relative lands on /relative/."""
    page.goto("/sign-in")
    page.locator('input[name="phone"]').fill(phone)
    page.locator('form[action$="/sign-in"] button[type="submit"]').click()
    page.wait_for_url("**/sign-in/code")
    page.locator('input[name="code"]').fill(sms.last_code(phone))
    page.locator('form[action$="/sign-in/code"] button[type="submit"]').click()
    page.wait_for_url("**/relative/")


def _accept_invitation(page: Page, link: str, sms: CapturingSms, typed: str, phone: str,
                       axe: Axe | None = None) -> None:
    """Open the invitation link, confirm the number with the SMS code, land on /relative/.
    With ``axe``: check the pages, with and without errors, on the way."""
    response = page.goto(link)
    assert response is not None and response.status == 200
    expect(page.locator('input[name="phone"]')).to_be_visible()
    if axe:
        axe(page)
        page.locator("main form button[type=submit]").click()  # no number
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.locator('input[name="phone"]')).to_have_attribute("aria-invalid", "true")
        axe(page)
    page.locator('input[name="phone"]').fill(typed)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/invite/[A-Za-z0-9_-]+/code$"))
    code_input = page.locator('input[name="code"]')
    expect(code_input).to_be_visible()
    code = sms.last_code(phone)
    if axe:
        axe(page)
        code_input.fill(_other_code(code))
        page.locator("main form button[type=submit]").click()
        expect(page.locator(".error-summary")).to_be_visible()
        expect(code_input).to_have_attribute("aria-invalid", "true")
        axe(page)
    code_input.fill(code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/relative/")


def _access_of(patient_id: int) -> RelativeAccess:
    db.session.expire_all()
    found = list(db.session.scalars(select(RelativeAccess)
                                    .where(RelativeAccess.patient_id == patient_id)))
    assert len(found) == 1, found
    return found[0]


# -- the whole story ------------------------------------------------------------------------

def test_relative_sees_only_what_the_patient_chose_until_access_ends(
    page: Page, new_context: NewContext, world: World, make: Factory, sms: CapturingSms,
    axe: Axe, shots: Path, live_server: str, sign_in_patient: SignIn, sign_in_staff: SignIn,
) -> None:
    make.appointment(world.patient_x, starts_in=timedelta(days=3),
                     service_name=APPOINTMENT_PLACE)
    patient_id = world.patient_x.id
    db.session.rollback()

    # 1. The patient invites someone, with exactly two scopes.
    sign_in_patient(page, world.patient_x)
    page.goto("/me/")
    page.locator("main").get_by_role("link", name="Choose who may follow you").click()
    expect(page).to_have_url(re.compile(r"/me/relatives/$"))
    expect(page.locator("main")).to_contain_text("Nobody else has access to your information.")
    axe(page)
    page.get_by_role("link", name="Invite someone").click()
    expect(page).to_have_url(re.compile(r"/me/relatives/invite$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Invite a relative or close person")
    scopes = page.locator('input[name="scopes"]')
    expect(scopes).to_have_count(len(relatives.SCOPES))
    for i in range(len(relatives.SCOPES)):
        expect(scopes.nth(i)).not_to_be_checked()  # nothing is chosen for the patient
    page.get_by_label("Their name").fill("Mona Mor")
    page.get_by_label("How are they related to you?").fill("mother")
    page.get_by_label("Their mobile number").fill(RELATIVE_NUMBER_TYPED)
    page.get_by_label("See my upcoming appointments").check()
    page.get_by_label("Send what they notice to my care team").check()
    for i in range(len(relatives.SCOPES)):  # long labels must not squeeze their boxes
        box = scopes.nth(i).bounding_box()
        assert box is not None and box["width"] >= 24 and box["height"] >= 24, (i, box)
    page.screenshot(path=str(shots / "relatives_invite_form.png"), full_page=True)
    axe(page)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page).to_have_url(re.compile(r"/me/relatives/$"))
    expect(page.locator(".flash-success")).to_contain_text("The invitation is sent.")
    expect(page.locator("main")).to_contain_text("Invitations not yet accepted")
    expect(page.locator("main")).to_contain_text("Mona Mor (mother)")

    db.session.expire_all()
    invitation = db.session.scalars(select(RelativeInvitation)).one()
    assert invitation.phone == RELATIVE_NUMBER
    assert invitation.scopes == [RelativeScope.APPOINTMENTS.value,
                                 RelativeScope.OBSERVATIONS.value]
    db.session.rollback()
    # The SMS says who invites by first name only, and never the surname or the clinic.
    invitation_sms = [m for m in sms.sent if m.to == RELATIVE_NUMBER]
    assert len(invitation_sms) == 1
    body = invitation_sms[0].body
    assert body.startswith("Xena har invitert deg")
    assert "Pasient" not in body and "Klinikk" not in body
    link = _invite_link(sms, RELATIVE_NUMBER, live_server)

    # 2. The relative opens the link in a browser of their own and confirms the number.
    relative = new_context("en").new_page()
    relative.goto(link)
    expect(relative.get_by_role("heading", level=1)).to_have_text("You are invited to Følge")
    expect(relative.locator("main")).not_to_contain_text("Xena")
    axe(relative)
    relative.get_by_label("Your mobile number").fill(RELATIVE_NUMBER_TYPED)
    relative.get_by_role("button", name="Send me a code").click()
    relative.wait_for_url(re.compile(r"/invite/[A-Za-z0-9_-]+/code$"))
    expect(relative.get_by_role("heading", level=1)).to_have_text("Enter the code")
    axe(relative)
    relative.locator('input[name="code"]').fill(sms.last_code(RELATIVE_NUMBER))
    relative.get_by_role("button", name="Accept the invitation").click()
    relative.wait_for_url("**/relative/")
    expect(relative.get_by_role("heading", level=1)).to_have_text("Hello, Mona Mor")
    axe(relative)

    access = _access_of(patient_id)
    access_id = access.id
    relative_user_id = access.relative_user_id
    assert access.revoked_at is None
    db.session.rollback()

    relative.locator("main").get_by_role("link", name="Xena Pasient").click()
    expect(relative).to_have_url(re.compile(rf"/relative/patients/{patient_id}/$"))
    expect(relative.get_by_role("heading", level=1)).to_have_text("Xena Pasient")
    # Exactly the two chosen things; nothing hints at the rest.
    offered = relative.locator("main ul.plain-list a")
    expect(offered).to_have_count(2)
    expect(offered.nth(0)).to_have_text("Upcoming appointments")
    expect(offered.nth(0)).to_have_attribute(
        "href", f"/relative/patients/{patient_id}/appointments")
    expect(offered.nth(1)).to_have_text("Tell the care team what you notice")
    expect(offered.nth(1)).to_have_attribute(
        "href", f"/relative/patients/{patient_id}/observations")
    expect(relative.locator('main a[href*="pickup-plan"]')).to_have_count(0)
    expect(relative.locator('main a[href*="take-home"]')).to_have_count(0)
    expect(relative.locator("main")).not_to_contain_text("reminders")
    relative.screenshot(path=str(shots / "relative_patient_page.png"), full_page=True)
    axe(relative)

    offered.nth(0).click()
    expect(relative).to_have_url(re.compile(rf"/relative/patients/{patient_id}/appointments$"))
    expect(relative.get_by_role("heading", level=1)).to_have_text(
        "Upcoming appointments for Xena Pasient")
    expect(relative.locator("main")).to_contain_text(APPOINTMENT_PLACE)
    axe(relative)

    for hidden in ("pickup-plan", "take-home"):
        response = relative.goto(f"/relative/patients/{patient_id}/{hidden}")
        assert response is not None and response.status == 404, hidden

    # 3. The relative tells the care team what they notice.
    relative.goto(f"/relative/patients/{patient_id}/")
    relative.get_by_role("link", name="Tell the care team what you notice").click()
    expect(relative).to_have_url(re.compile(rf"/relative/patients/{patient_id}/observations$"))
    expect(relative.locator("main .notice")).to_contain_text(
        "Xena Pasient can read what you write here.")
    axe(relative)
    relative.get_by_role("button", name="Send to the care team").click()  # nothing filled in
    expect(relative.locator(".error-summary")).to_be_visible()
    expect(relative.locator(".error-summary li")).to_have_count(2)
    expect(relative.locator("fieldset#kind")).to_have_class(re.compile(r"\bfield-error\b"))
    expect(relative.locator('textarea[name="text"]')).to_have_attribute("aria-invalid", "true")
    axe(relative)
    relative.get_by_label("A change I have noticed").check()
    relative.get_by_label("What do you want the care team to know?").fill(OBSERVATION)
    relative.get_by_role("button", name="Send to the care team").click()
    expect(relative).to_have_url(re.compile(rf"/relative/patients/{patient_id}/$"))
    expect(relative.locator(".flash-success")).to_contain_text("Sent to the care team.")

    db.session.expire_all()
    observation = db.session.scalars(select(RelativeObservation)).one()
    assert (observation.patient_id, observation.access_id) == (patient_id, access_id)
    assert observation.kind is ObservationKind.CHANGE and observation.text == OBSERVATION
    db.session.rollback()

    # 4. A doctor of the patient's clinic reads it on the worklist and the relatives page.
    staff = new_context("en").new_page()
    sign_in_staff(staff, world.doctor_a)
    staff.goto("/staff/worklist")
    item = staff.locator("tr.work-relative_observation").filter(has_text=OBSERVATION)
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Xena Pasient")
    expect(item).to_contain_text("From Mona Mor (mother):")
    expect(item).to_contain_text("A change I have noticed")
    axe(staff)
    item.get_by_role("link", name="See the patient's relatives").click()
    expect(staff).to_have_url(re.compile(rf"/staff/patients/{patient_id}/relatives$"))
    card = staff.locator(f"section[aria-labelledby='access-{access_id}']")
    expect(card).to_contain_text("Mona Mor")
    expect(card.locator("li")).to_have_text(["Sees upcoming appointments",
                                             "Sends observations to the care team"])
    expect(staff.locator("main")).to_contain_text(OBSERVATION)
    axe(staff)

    # 5. The patient sees the relative's look, and ends the access.
    page.goto("/me/relatives/")
    mona = page.locator(f"section[aria-labelledby='access-{access_id}']")
    expect(mona.locator("li")).to_have_text(["See my upcoming appointments",
                                             "Send what they notice to my care team"])
    expect(page.locator("main")).not_to_contain_text("Invitations not yet accepted")
    expect(page.locator("main")).to_contain_text(OBSERVATION)
    looked = page.locator("main h2", has_text="When they looked").locator(
        "xpath=following-sibling::*[1]")
    # Every page of hers the relative opened: the appointments, and the pages that only
    # show her name (the relative's page for her, the observation form).
    expect(looked.locator("li", has_text="Mona Mor – one of your appointments")).to_have_count(1)
    expect(looked.locator("li", has_text="Mona Mor – a page with your name on it")).not_to_have_count(0)
    expect(looked).not_to_contain_text("pickup plan")
    page.screenshot(path=str(shots / "relatives_overview.png"), full_page=True)
    axe(page)

    mona.get_by_role("link", name="Change").click()
    expect(page).to_have_url(re.compile(rf"/me/relatives/access/{access_id}$"))
    expect(page.get_by_label("See my upcoming appointments")).to_be_checked()
    expect(page.get_by_label("Send what they notice to my care team")).to_be_checked()
    expect(page.locator('input[name="scopes"]:checked')).to_have_count(2)
    axe(page)

    page.goto("/me/relatives/")
    # Two steps: "End access" opens the confirmation, styled as destructive.
    confirm = mona.get_by_role("button", name=re.compile("^End access now"))
    expect(confirm).to_be_hidden()
    mona.locator("summary", has_text="End access").click()
    expect(confirm).to_be_visible()
    assert "rgb(176, 0, 32)" in confirm.evaluate("(el) => getComputedStyle(el).backgroundColor")
    axe(page)
    confirm.click()
    expect(page).to_have_url(re.compile(r"/me/relatives/$"))
    expect(page.locator(".flash-success")).to_contain_text("Access ended.")
    expect(mona).to_contain_text("Access has ended.")
    expect(mona.get_by_role("button", name=re.compile("^End access now"))).to_have_count(0)

    ended = _access_of(patient_id)
    assert ended.revoked_at is not None and ended.revoked_by == "patient"
    open_sessions = db.session.scalars(select(UserSession).where(
        UserSession.user_id == relative_user_id, UserSession.ended_at.is_(None))).all()
    assert open_sessions == [], "the relative's sessions must end when the access ends"
    db.session.rollback()

    # The relative's next click is refused: the session has ended.
    relative.reload()
    expect(relative).to_have_url(re.compile(r"/sign-in$"))
    expect(relative.locator('input[name="phone"]')).to_be_visible()
    # Signed in again, there is nobody to follow, and the old address is not found.
    _sign_in_relative(relative, sms, RELATIVE_NUMBER)
    expect(relative.locator("main")).to_contain_text("Nobody has given you access")
    expect(relative.locator(f'main a[href*="/relative/patients/{patient_id}/"]')).to_have_count(0)
    for path in ("", "appointments", "observations"):
        response = relative.goto(f"/relative/patients/{patient_id}/{path}")
        assert response is not None and response.status == 404, path
    # The invitation link has been used: it no longer works.
    relative.goto(link)
    expect(relative.get_by_role("heading", level=1)).to_have_text(
        "This invitation link no longer works")
    expect(relative.locator("main")).to_contain_text("already been accepted")
    axe(relative)

    # Staff still see the history, marked as ended.
    staff.reload()
    expect(card).to_contain_text("Access has ended.")


# -- accessibility ----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "nb"])
def test_relatives_pages_are_accessible(
    new_context: NewContext, world: World, make: Factory, sms: CapturingSms, axe: Axe,
    live_server: str, sign_in_patient: SignIn, sign_in_staff: SignIn, lang: str,
) -> None:
    make.appointment(world.patient_x, starts_in=timedelta(days=5),
                     service_name=APPOINTMENT_PLACE)
    patient = world.patient_x
    patient_id = patient.id
    # Two invitations from the patient: one to accept, one to cancel (an unusable link).
    relatives.invite(patient, InviteInput(
        name="Mona Mor", relationship="mor", phone=RELATIVE_NUMBER,
        scopes=[RelativeScope.APPOINTMENTS.value, RelativeScope.OBSERVATIONS.value]))
    link = _invite_link(sms, RELATIVE_NUMBER, live_server)
    cancelled = relatives.invite(patient, InviteInput(name="Per Venn", relationship="venn",
                                                      phone="+4795000002"))
    cancelled_link = _invite_link(sms, "+4795000002", live_server)
    relatives.cancel(cancelled)
    db.session.rollback()

    def check_lang(p: Page) -> None:
        expect(p.locator("html")).to_have_attribute("lang", lang)

    # The public invitation pages, and the relative's own pages.
    relative = new_context(lang).new_page()
    _accept_invitation(relative, link, sms, RELATIVE_NUMBER_TYPED, RELATIVE_NUMBER, axe)
    check_lang(relative)
    axe(relative)
    access_id = _access_of(patient_id).id
    db.session.rollback()
    relative.goto(f"/relative/patients/{patient_id}/")
    expect(relative.locator("main ul.plain-list a")).to_have_count(2)
    axe(relative)
    relative.goto(f"/relative/patients/{patient_id}/appointments")
    expect(relative.locator("main")).to_contain_text(APPOINTMENT_PLACE)
    axe(relative)
    relative.goto(f"/relative/patients/{patient_id}/observations")
    expect(relative.locator('textarea[name="text"]')).to_be_visible()
    axe(relative)
    relative.locator("main form button[type=submit]").click()
    expect(relative.locator(".error-summary")).to_be_visible()
    check_lang(relative)
    axe(relative)
    relative.locator('input[name="kind"][value="worry"]').check()
    relative.locator('textarea[name="text"]').fill(OBSERVATION)
    relative.locator("main form button[type=submit]").click()
    expect(relative).to_have_url(re.compile(rf"/relative/patients/{patient_id}/$"))
    expect(relative.locator(".flash-success")).to_be_visible()
    axe(relative)

    # Unusable links: cancelled, unknown.
    stranger = new_context(lang).new_page()
    stranger.goto(cancelled_link)
    expect(stranger.locator("main form[action$='/tell']")).to_be_visible()
    check_lang(stranger)
    axe(stranger)
    stranger.locator("main form[action$='/tell'] button").click()
    expect(stranger.locator("main .flash-success")).to_be_visible()
    axe(stranger)
    response = stranger.goto("/invite/not-a-real-invitation")
    assert response is not None and response.status == 200
    expect(stranger.locator("main form")).to_have_count(0)
    axe(stranger)

    # The patient's pages.
    page = new_context(lang).new_page()
    sign_in_patient(page, patient)
    page.goto("/me/relatives/")
    check_lang(page)
    expect(page.locator(f"section[aria-labelledby='access-{access_id}']")).to_be_visible()
    expect(page.locator("main")).to_contain_text(OBSERVATION)
    axe(page)
    page.goto("/me/relatives/invite")
    expect(page.locator('input[name="name"]')).to_be_visible()
    axe(page)
    page.locator("main form button[type=submit]").click()  # nothing filled in
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator('input[name="name"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator('input[name="relationship"]')).to_have_attribute("aria-invalid", "true")
    check_lang(page)
    axe(page)
    page.goto(f"/me/relatives/access/{access_id}")
    expect(page.locator('input[name="scopes"]:checked')).to_have_count(2)
    axe(page)

    # Staff pages: the relatives, registering one, the agreement form.
    staff = new_context(lang).new_page()
    sign_in_staff(staff, world.doctor_a)
    staff.goto(f"/staff/patients/{patient_id}/relatives")
    check_lang(staff)
    expect(staff.locator(f"section[aria-labelledby='access-{access_id}']")).to_be_visible()
    axe(staff)
    staff.goto(f"/staff/patients/{patient_id}/relatives/new")
    expect(staff.locator('input[name="consent_method"]')).to_have_count(3)
    axe(staff)
    staff.locator("main form button[type=submit]").click()
    expect(staff.locator(".error-summary")).to_be_visible()
    expect(staff.locator("fieldset#consent_method")).to_have_class(re.compile(r"\bfield-error\b"))
    check_lang(staff)
    axe(staff)
    staff.goto(f"/staff/relatives/{access_id}/agreement")
    expect(staff.locator('textarea[name="role"]')).to_be_visible()
    axe(staff)
    staff.goto("/staff/worklist")
    expect(staff.locator("tr.work-relative_observation")).to_have_count(1)
    axe(staff)



def test_a_signed_in_relative_accepts_only_invitations_to_their_own_number(
    new_context: NewContext, world: World, sms: CapturingSms, axe: Axe, live_server: str,
) -> None:
    """Being signed in is no proof of owning another number: an invitation sent to
    someone else cannot be taken with a button press."""
    own_number = world.relative.phone
    assert own_number
    relatives.invite(world.patient_x, InviteInput(
        name="Mona Mor", relationship="mor", phone=RELATIVE_NUMBER,
        scopes=[RelativeScope.APPOINTMENTS.value]))
    someone_elses = _invite_link(sms, RELATIVE_NUMBER, live_server)
    relatives.invite(world.patient_y, InviteInput(
        name="Rita Pårørende", relationship="søster", phone=own_number,
        scopes=[RelativeScope.OBSERVATIONS.value]))
    own = _invite_link(sms, own_number, live_server)
    relative_id, patient_x_id, patient_y_id = (world.relative.id, world.patient_x.id,
                                               world.patient_y.id)
    db.session.rollback()

    page = new_context("en").new_page()
    _sign_in_relative(page, sms, own_number)
    expect(page.locator("main")).to_contain_text("Nobody has given you access")

    page.goto(someone_elses)
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page).to_have_url(re.compile(r"/invite/[A-Za-z0-9_-]+$"))
    expect(page.locator(".flash-error")).to_have_text("Use the number the invitation was sent to.")
    axe(page)
    db.session.expire_all()
    assert db.session.scalars(select(RelativeAccess).where(
        RelativeAccess.relative_user_id == relative_id)).all() == []
    db.session.rollback()

    page.goto(own)
    page.get_by_role("button", name="Accept the invitation").click()
    page.wait_for_url("**/relative/")
    links = page.locator('main a[href^="/relative/patients/"]')
    expect(links).to_have_count(1)
    expect(links).to_have_text("Yngve Pasient")
    expect(links).to_have_attribute("href", f"/relative/patients/{patient_y_id}/")
    response = page.goto(f"/relative/patients/{patient_x_id}/")
    assert response is not None and response.status == 404
