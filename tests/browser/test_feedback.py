"""Feedback check-ins in a real browser.

A patient whose last "How are things?" was high answers a new one with the
keyboard only (Tab, arrow keys, Enter), much lower: the answer shows in the
chart and table of their own history, and a doctor finds the alert on the
worklist and on the patient's feedback page. Then WCAG checks of the patient
and staff feedback pages, in English and Bokmål.

Screenshots for review are written to /tmp/shots/ (never committed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from server.extensions import db
from server.models import (
    FeedbackInvitation,
    FeedbackResponse,
    InvitationStatus,
    PatientProfile,
    StaffRole,
    User,
    WorkItem,
    WorkKind,
)
from server.models.base import utcnow
from server.services import feedback, instruments
from server.services.feedback import Answer
from server.services.local_time import oslo_today
from tests.browser.conftest import choose_language
from tests.conftest import Factory, World

pytestmark = pytest.mark.browser

Axe = Callable[[Page], object]
SignIn = Callable[[Page, object], None]

HOW_ARE_THINGS = "how_are_things"
ITEMS = ("feel", "close", "daily", "overall")
COMMENT = "Tung uke. Vil gjerne snakke om det."
YOU_SAID_WE_DID = "Dere ba om kveldstimer. Nå har vi åpent til kl. 19 på torsdager."


def _answer(patient: PatientProfile, key: str, score: int, days_ago: int = 0,
            comment: str = "", anonymous: bool = False, invitation_id: int | None = None
            ) -> None:
    """One answer with every item ``score``, through the service (so alerts are made)."""
    instrument = instruments.latest(key)
    assert instrument is not None
    feedback.submit(patient, Answer(
        instrument=instrument, scores={k: score for k in instrument.item_keys},
        comment=comment, anonymous=anonymous, invitation_id=invitation_id),
        now=utcnow() - timedelta(days=days_ago))


def _invitation(patient: PatientProfile, days_ago: int = 0) -> int:
    """An open invitation to "How was the meeting?" (as after an attended appointment)."""
    created = utcnow() - timedelta(days=days_ago)
    invitation = FeedbackInvitation(
        patient_id=patient.id, clinic_id=patient.clinic_id, appointment_id=None,
        instrument_key=feedback.INVITE_INSTRUMENT, status=InvitationStatus.OPEN,
        created_at=created, expires_at=created + timedelta(days=feedback.INVITATION_DAYS))
    db.session.add(invitation)
    db.session.commit()
    return invitation.id


def _responses_of(patient_id: int) -> list[FeedbackResponse]:
    db.session.expire_all()
    found = list(db.session.scalars(
        select(FeedbackResponse).where(FeedbackResponse.patient_id == patient_id)
        .order_by(FeedbackResponse.created_at)))
    return found


def _alerts_of(patient_id: int) -> list[WorkItem]:
    return list(db.session.scalars(select(WorkItem).where(
        WorkItem.patient_id == patient_id, WorkItem.kind == WorkKind.FEEDBACK_ALERT)))


def _focused(page: Page) -> str:
    """The id (or tag name) of the element that has the keyboard focus."""
    return str(page.evaluate(
        "() => document.activeElement.id || document.activeElement.tagName.toLowerCase()"))


def _tab_to(page: Page, element_id: str, limit: int = 40) -> int:
    """Press Tab until ``element_id`` has the focus; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _focused(page) == element_id:
            return presses
    raise AssertionError(f"#{element_id} was not reached with {limit} Tab presses "
                         f"(focus is on {_focused(page)})")


def _focus_ring_of_label(page: Page) -> str:
    """The focus ring on the label of the focused radio (the input itself is hidden):
    "solid" when it has the app's yellow outline and the dark ring around it that
    keeps the outline visible against white (WCAG 1.4.11)."""
    return str(page.evaluate(
        """() => {
            const label = document.querySelector(`label[for="${document.activeElement.id}"]`);
            if (!label) return "no label";
            const style = getComputedStyle(label);
            return style.boxShadow === "none" ? "no dark ring" : style.outlineStyle;
        }"""))


def _assert_lang(page: Page, lang: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)


# -- a check-in with the keyboard, the alert on the worklist -------------------------------

def test_keyboard_check_in_shows_in_history_and_alerts_the_team(
    page: Page, staff_context: BrowserContext, world: World, axe: Axe, shots: Path,
    sign_in_patient: SignIn, sign_in_staff: SignIn,
) -> None:
    patient = world.patient_x
    patient_id = patient.id
    _answer(patient, HOW_ARE_THINGS, 9, days_ago=14, comment="En god uke.")  # 36 of 40
    assert not _alerts_of(patient_id)
    db.session.rollback()

    sign_in_patient(page, patient)
    page.goto("/me/feedback/")
    history = page.locator(f"section[aria-labelledby='history-{HOW_ARE_THINGS}']")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("svg.chart circle")).to_have_count(1)
    expect(history.locator("svg.chart polyline")).to_have_count(0)  # one point: no line

    page.goto(f"/me/feedback/{HOW_ARE_THINGS}")
    expect(page.get_by_role("heading", level=1)).to_have_text("How are things?")
    expect(page.locator("main form input[type=radio][name=feel]")).to_have_count(11)

    # Keyboard only from here: Tab into each 0-10 group and move with the arrow keys.
    # Nothing is chosen, so Tab stops on 0; each arrow press moves to and chooses the next.
    _tab_to(page, "item-feel-0")
    expect(page.locator("#item-feel-0")).not_to_be_checked()  # focus alone chooses nothing
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert _focused(page) == "item-feel-3"
    expect(page.locator("#item-feel-3")).to_be_checked()
    # The radio itself is invisible; its label shows where the focus is.
    assert _focus_ring_of_label(page) == "solid"
    page.locator("fieldset#item-feel").screenshot(path=str(shots / "feedback_focus.png"))

    page.keyboard.press("Tab")  # to the next group, which starts at 0 again
    assert _focused(page) == "item-close-0"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # 5, then back to 3
    expect(page.locator("#item-close-3")).to_be_checked()
    assert _focus_ring_of_label(page) == "solid"

    page.keyboard.press("Tab")
    assert _focused(page) == "item-daily-0"
    page.keyboard.press("Space")  # Space chooses the focused number ...
    expect(page.locator("#item-daily-0")).to_be_checked()
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # ... and down moves on, like right
    expect(page.locator("#item-daily-3")).to_be_checked()

    page.keyboard.press("Tab")
    assert _focused(page) == "item-overall-0"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#item-overall-3")).to_be_checked()

    page.keyboard.press("Tab")
    assert _focused(page) == "comment"
    page.keyboard.type(COMMENT)
    page.keyboard.press("Tab")  # "Who gets your answer?": the care team is chosen already
    assert _focused(page) == "destination-0"
    expect(page.locator("#destination-0")).to_be_checked()
    page.keyboard.press("Tab")
    focused_button = page.locator("main form button[type=submit]")
    expect(focused_button).to_be_focused()
    for key in ITEMS:
        expect(page.locator(f"#item-{key}-3")).to_be_checked()
        expect(page.locator(f"input[name={key}]:checked")).to_have_count(1)
    expect(page.locator("#comment")).to_have_value(COMMENT)
    page.screenshot(path=str(shots / "feedback_check_in.png"), full_page=True)
    axe(page)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/me/feedback/$"))
    expect(page.locator(".flash-success")).to_have_text("Thank you! Your answer is saved.")
    rows = history.locator("tbody tr")
    expect(rows).to_have_count(2)
    newest, oldest = rows.nth(0).locator("td"), rows.nth(1).locator("td")
    # Date, total and comment first (they fit a phone), then the four items; newest first.
    expect(newest).to_have_count(7)
    expect(newest.nth(1)).to_have_text("12")
    expect(newest.nth(2)).to_have_text(COMMENT)
    expect(newest.nth(3)).to_have_text("3")
    expect(newest.nth(6)).to_have_text("3")
    expect(oldest.nth(1)).to_have_text("36")
    expect(oldest.nth(2)).to_have_text("En god uke.")
    # Total and comment are in view on the phone without scrolling the table sideways.
    box = newest.nth(2).bounding_box()
    assert box is not None and box["x"] + 40 < 390
    chart = history.locator("svg.chart")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("circle")).to_have_count(2)
    expect(chart.locator("polyline")).to_have_count(1)
    points = chart.locator("polyline").get_attribute("points") or ""
    (x1, y1), (x2, y2) = [tuple(float(v) for v in p.split(",")) for p in points.split()]
    assert x2 > x1 and y2 > y1, points  # later, and lower on the chart (SVG y grows downwards)
    page.screenshot(path=str(shots / "feedback_history.png"), full_page=True)
    axe(page)

    stored = _responses_of(patient_id)
    assert [r.total for r in stored] == [36, 12]
    assert stored[-1].scores == {k: 3 for k in ITEMS}
    assert stored[-1].comment == COMMENT
    alerts = _alerts_of(patient_id)
    assert len(alerts) == 1
    assert alerts[0].details["previous"] == 36 and alerts[0].details["total"] == 12
    assert alerts[0].details["response_id"] == stored[-1].id
    db.session.rollback()

    # A doctor of the clinic sees the alert on the worklist, in another browser.
    staff = staff_context.new_page()
    sign_in_staff(staff, world.doctor_a)
    staff.goto("/staff/worklist")
    alert = staff.locator("tr.work-feedback_alert").filter(has_text="Xena Pasient")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Discuss at the next meeting:")
    expect(alert).to_contain_text(
        "“How are things?” fell from 36 to 12 of 40 (alert at a fall of 5).")
    axe(staff)
    alert.get_by_role("link", name="See the patient's feedback").click()
    expect(staff).to_have_url(re.compile(rf"/staff/patients/{patient_id}/feedback$"))
    expect(staff.get_by_role("heading", level=1)).to_have_text("Feedback from Xena Pasient")
    main = staff.locator("main")
    expect(main).to_contain_text("fell from 36 to 12 of 40")
    expect(main).to_contain_text("(open, on the worklist)")
    staff_rows = staff.locator(f"section[aria-labelledby='history-{HOW_ARE_THINGS}'] tbody tr")
    expect(staff_rows).to_have_count(2)
    expect(staff_rows.first.locator("td").nth(1)).to_have_text("12")
    expect(staff_rows.first.locator("td").nth(2)).to_have_text(COMMENT)
    expect(staff.locator("svg.chart circle")).to_have_count(2)
    staff.screenshot(path=str(shots / "staff_feedback_patient.png"), full_page=True)
    axe(staff)


# -- accessibility -------------------------------------------------------------------------

def _days_ago_last_month() -> int:
    """Days back to the middle of last month: a month that is over, in which the clinic's
    figures and comments without names are shown."""
    today = oslo_today()
    return (today - (today.replace(day=1) - timedelta(days=14))).days


def _clinic_with_feedback(make: Factory, world: World) -> None:
    """Enough answers in clinic A for every figure on the dashboard to show (5 or more)."""
    _answer(world.patient_x, HOW_ARE_THINGS, 9, days_ago=21, comment="Bra.")
    _answer(world.patient_x, HOW_ARE_THINGS, 4, days_ago=7, comment="Tung uke.")  # an alert
    _answer(world.patient_x, "how_was_the_meeting", 8, days_ago=7)  # under 36: an alert
    _invitation(world.patient_x)  # open: the banner on the patient's page
    others = [world.patient_y] + [make.patient(world.clinic_a, f"Pasient {n}")
                                  for n in range(5)]
    last_month = _days_ago_last_month()
    for n, patient in enumerate(others):
        invitation_id = _invitation(patient, days_ago=last_month)
        _answer(patient, "how_was_the_meeting", 6 + n % 4, days_ago=last_month,
                anonymous=True, invitation_id=invitation_id,
                comment=f"Kommentar {n}: ventetiden var lang." if n % 2 == 0 else "")
        _answer(patient, HOW_ARE_THINGS, 5 + n % 5, days_ago=last_month, anonymous=True,
                comment="Hyggelig personale." if n % 3 == 0 else "")
        _answer(patient, HOW_ARE_THINGS, 4 + n % 5, days_ago=3)
    _invitation(world.patient_y, days_ago=2)
    feedback.save_settings(world.clinic_a, {HOW_ARE_THINGS: 6}, YOU_SAID_WE_DID,
                           world.doctor_a)


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_patient_feedback_pages_are_accessible(
    page: Page, world: World, make: Factory, axe: Axe, sign_in_patient: SignIn, lang: str,
) -> None:
    _clinic_with_feedback(make, world)
    db.session.rollback()
    page.goto("/sign-in")
    choose_language(page, lang)
    sign_in_patient(page, world.patient_x)

    page.goto("/me/feedback/")
    _assert_lang(page, lang)
    expect(page.locator("main .banner a.button")).to_have_attribute(
        "href", re.compile(r"/me/feedback/how_was_the_meeting$"))
    expect(page.locator(f"#history-{HOW_ARE_THINGS}")).to_be_visible()
    expect(page.locator("#history-how_was_the_meeting")).to_be_visible()
    expect(page.locator(f"section[aria-labelledby='history-{HOW_ARE_THINGS}'] tbody tr")
           ).to_have_count(2)
    expect(page.locator("svg.chart")).to_have_count(2)
    axe(page)

    page.goto(f"/me/feedback/{HOW_ARE_THINGS}")
    _assert_lang(page, lang)
    expect(page.locator("main fieldset.item")).to_have_count(4)
    expect(page.locator('input[name="invitation"]')).to_have_value("")
    axe(page)
    page.locator("main form button[type=submit]").click()  # nothing chosen
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("li")).to_have_count(4)
    expect(summary.locator("a").first).to_have_attribute("href", "#item-feel-0")
    for key in ITEMS:
        fieldset = page.locator(f"fieldset#item-{key}")
        expect(fieldset).to_have_class(re.compile(r"\bfield-error\b"))
        expect(fieldset).to_have_attribute("aria-describedby", f"item-{key}-error")
        expect(page.locator(f"#item-{key}-error")).to_be_visible()
    _assert_lang(page, lang)
    axe(page)
    summary.locator("a").first.click()  # the link leads to the first number of the item
    expect(page.locator("#item-feel-0")).to_be_focused()
    assert len(_responses_of(world.patient_x.id)) == 3  # nothing was stored
    db.session.rollback()

    page.goto("/me/feedback/how_was_the_meeting")  # answering the open invitation
    expect(page.locator('input[name="invitation"]')).to_have_value(re.compile(r"^\d+$"))
    axe(page)

    page.goto("/me/feedback/you-said-we-did")
    _assert_lang(page, lang)
    expect(page.locator("main .card")).to_have_text(YOU_SAID_WE_DID)
    axe(page)


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_staff_feedback_pages_are_accessible(
    page: Page, staff_context: BrowserContext, world: World, make: Factory, axe: Axe,
    shots: Path, sign_in_staff: SignIn, lang: str,
) -> None:
    _clinic_with_feedback(make, world)
    admin: User = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Leder A")
    patient_id, clinic_id = world.patient_x.id, world.clinic_a.id
    db.session.rollback()

    page.goto("/staff/sign-in")
    choose_language(page, lang)
    sign_in_staff(page, world.doctor_a)

    page.goto("/staff/worklist")
    _assert_lang(page, lang)
    # Xena's fall in "How are things?" and her low "How was the meeting?" (under 36).
    expect(page.locator("tr.work-feedback_alert").filter(has_text="Xena Pasient")
           ).to_have_count(2)
    axe(page)

    page.goto(f"/staff/patients/{patient_id}/feedback")
    _assert_lang(page, lang)
    expect(page.locator("main ul.plain-list li")).to_have_count(2)  # her two alerts
    expect(page.locator(f"section[aria-labelledby='history-{HOW_ARE_THINGS}'] tbody tr")
           ).to_have_count(2)
    expect(page.locator("svg.chart")).to_have_count(2)
    axe(page)

    page.goto("/staff/feedback")
    _assert_lang(page, lang)
    main = page.locator("main")
    expect(main.locator("table")).to_have_count(2)  # both instruments have 5 or more
    # Two columns show an average: each header says which answers it averages.
    headers = main.locator("table").first.locator("thead th").all_text_contents()
    assert len(headers) == 5 and len(set(headers)) == 5, headers
    expect(main).to_contain_text("Kommentar 0: ventetiden var lang.")
    expect(main.locator('input[name="first"]')).to_be_visible()
    if lang == "en":
        page.screenshot(path=str(shots / "staff_feedback_clinic.png"), full_page=True)
    axe(page)
    page.goto(f"/staff/feedback?clinic={clinic_id}&first=31.02.2026&last=")  # not a day
    expect(page.locator('input[name="first"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#first-error")).to_be_visible()
    _assert_lang(page, lang)
    axe(page)

    # The settings: a clinic administrator's page.
    page = staff_context.new_page()
    page.goto("/staff/sign-in")
    choose_language(page, lang)
    sign_in_staff(page, admin)
    page.goto(f"/staff/clinics/{clinic_id}/feedback")
    _assert_lang(page, lang)
    threshold = page.locator(f'input[name="threshold_{HOW_ARE_THINGS}"]')
    expect(threshold).to_have_value("6")
    expect(page.locator('textarea[name="you_said_we_did"]')).to_have_value(YOU_SAID_WE_DID)
    axe(page)
    threshold.fill("99")  # over the maximum total of 40
    page.locator("main form button[type=submit]").click()
    expect(threshold).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#threshold_{HOW_ARE_THINGS}-error")).to_be_visible()
    summary = page.locator(".error-summary")  # announced, and leads to the field
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(1)
    expect(summary.locator("a")).to_have_attribute("href", f"#threshold_{HOW_ARE_THINGS}")
    _assert_lang(page, lang)
    axe(page)

    page.goto("/staff/feedback")  # an admin also sees the aggregate export
    expect(page.locator(f'main a[href*="/staff/clinics/{clinic_id}/feedback/aggregates.csv"]')
           ).to_have_count(1)
    axe(page)
