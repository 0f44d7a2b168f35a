"""Issue 13: every page reachable from each role's home, on a phone (390x844) and on a PC
(1366x900). Each page must:

- not scroll sideways (``scrollWidth <= innerWidth``);
- give every button, field and stand-alone link a target of at least 24x24 px
  (WCAG 2.2, 2.5.8; links inside a sentence are exempt, as the criterion allows);
- have no English left in it: the app's words are all translated, and the names and
  free text the test data holds are Norwegian, so an English word is a missing
  translation;
- be clean in axe-core, in Bokmål at both sizes and in Nynorsk and English on the phone
  (where Nynorsk must have no English either).

The crawl follows links (GET only) from the role's home, up to ``MAX_PAGES`` pages, and
skips what leaves the page: downloads, sign-out, the development pages. It runs on the
embedded database only (scripts/test.sh deselects it on PostgreSQL): what it checks is
the pages' layout and words, which do not depend on the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from server.extensions import db
from server.models import StaffRole, User
from tests.browser.conftest import TIMEOUT_MS, choose_language
from tests.conftest import PASSWORD, CapturingSms, Factory, World, totp_now

pytestmark = [pytest.mark.browser, pytest.mark.crawl]

MAX_PAGES = 60
#: Links the crawl does not follow: downloads and pages that end or change something.
SKIP = re.compile(r"(\.(pdf|ics|json|csv|png)$|/sign-out|/dev/|/static/|/icons/|/offline/|"
                  r"/leave$|/export|/my-information/)")
#: Whole English words that never occur in Norwegian text.
ENGLISH = re.compile(r"\b(the|your|you|please|with|and|this|which|when|what)\b", re.IGNORECASE)
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "pc": {"width": 1366, "height": 900}}

_PAGE_CHECKS = """() => {
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  // The deepest elements that stick out, to say what to fix.
  const wide = overflow > 0 ? [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 &&
            ![...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
    .slice(0, 3).map((el) => `${el.tagName.toLowerCase()}.${el.className}`) : [];
  const small = [];
  const targets = document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]');
  for (const el of targets) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!box.width || !box.height || style.visibility === 'hidden') continue;
    if (el.closest('dialog:not([open])')) continue;
    // A link inside running text is exempt (2.5.8 "inline").
    if (el.tagName === 'A' && style.display === 'inline') {
      const block = el.parentElement;
      if (block && block.textContent.trim().length > el.textContent.trim().length + 1) continue;
    }
    // A radio button or checkbox whose label is the target (2.5.8 "equivalent").
    if ((el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels.length) {
      const label = el.labels[0].getBoundingClientRect();
      if (label.height >= 24) continue;
    }
    if (box.width < 24 || box.height < 24) {
      small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 40)}" ` +
                 `${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('[lang]:not([lang=nb]), script, template, .visually-hidden')
    .forEach((el) => el.remove());
  return {overflow, wide, small, text: clone.innerText};
}"""


def _links(page: Page, origin: str) -> list[str]:
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]:not([download])')]"
                          ".map((a) => a.href)")
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _check(page: Page, url: str, axe: Callable[[Page], Any], problems: list[str],
           norwegian: bool = True) -> None:
    result = page.evaluate(_PAGE_CHECKS)
    if result["overflow"] > 0:
        problems.append(f"{url}: scrolls sideways by {result['overflow']} px ({result['wide']})")
    for target in result["small"]:
        problems.append(f"{url}: small target {target}")
    english = sorted({m.group(0).lower() for m in ENGLISH.finditer(result["text"])})
    if norwegian and english:
        problems.append(f"{url}: English words {english}")
    axe(page)


@pytest.fixture
def people(world: World, make: Factory, things: dict[str, int | str]) -> dict[str, User]:
    """Each role the crawl signs in as; ``things`` gave patient X one of everything."""
    admin = make.staff(world.clinic_a, StaffRole.CLINIC_ADMIN, name="Admin A")
    return {"patient": world.patient_x.user, "sms_patient": world.patient_y.user,
            "relative": world.relative, "doctor": world.doctor_a,
            "coordinator": world.coordinator_a, "clinic_admin": admin}


def _sign_in(page: Page, user: User, sms: CapturingSms) -> str:
    db.session.rollback()
    if user.is_staff:
        page.goto("/staff/sign-in")
        page.locator('input[name="email"]').fill(user.email or "")
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('form[action$="/staff/sign-in"] button[type="submit"]').click()
        page.wait_for_url("**/staff/sign-in/code")
        code = totp_now(user)
        db.session.rollback()
        page.locator('input[name="code"]').fill(code)
        page.locator('form[action$="/staff/sign-in/code"] button[type="submit"]').click()
        home = "/staff/"
    else:
        page.goto("/sign-in")
        page.locator('input[name="phone"]').fill(user.phone or "")
        page.locator('form[action$="/sign-in"] button[type="submit"]').click()
        page.wait_for_url("**/sign-in/code")
        page.locator('input[name="code"]').fill(sms.last_code(user.phone))
        page.locator('form[action$="/sign-in/code"] button[type="submit"]').click()
        home = "/relative/" if user.is_relative else "/me/"
    page.wait_for_url(f"**{home}")
    return home


@pytest.fixture
def nb_context(browser: Browser, live_server: str) -> Iterator[Callable[..., BrowserContext]]:
    opened: list[BrowserContext] = []

    def open_context(size: str, state: Any = None) -> BrowserContext:
        context = browser.new_context(base_url=live_server, viewport=VIEWPORTS[size],
                                      locale="nb-NO", device_scale_factor=1, storage_state=state)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


#: Two of the roles are crawled in the PostgreSQL half of scripts/test.sh instead, so the two
#: halves, run side by side, take about as long (marker crawl_pg).
_ON_POSTGRESQL = pytest.mark.crawl_pg


@pytest.mark.parametrize("role", ["patient", pytest.param("sms_patient", marks=_ON_POSTGRESQL),
                                  pytest.param("relative", marks=_ON_POSTGRESQL), "doctor",
                                  "coordinator", "clinic_admin"])
def test_every_page_fits_is_translated_and_passes_axe(
        role: str, people: dict[str, User], nb_context: Callable[..., BrowserContext],
        live_server: str, sms: CapturingSms, axe: Callable[[Page], Any]) -> None:
    user = people[role]
    problems: list[str] = []
    phone = nb_context("phone").new_page()
    home = _sign_in(phone, user, sms)
    origin = live_server
    seen: list[str] = []
    queue = [home]
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = phone.goto(url)
        if response is None or response.status >= 400 or urlsplit(phone.url).path.endswith("sign-in"):
            problems.append(f"{url}: answered {response.status if response else 'nothing'}")
            continue
        seen.append(url)
        _check(phone, url, axe, problems)
        queue.extend(link for link in _links(phone, origin) if link not in seen)
    assert len(seen) >= (3 if role in ("sms_patient", "relative") else 6), seen

    # The same session on a PC screen (a second sign-in could not reuse the TOTP code).
    pc = nb_context("pc", phone.context.storage_state()).new_page()
    for url in seen:
        pc.goto(url)
        _check(pc, url + " (1366 px)", axe, problems)
    # Nynorsk and English on the phone: chosen with the footer buttons, as a person does.
    for lang in ("nn", "en"):
        choose_language(phone, lang)
        for url in seen:
            phone.goto(url)
            _check(phone, f"{url} ({lang})", axe, problems, norwegian=lang == "nn")
    assert not problems, "\n".join(problems)
    print(f"Følge crawl {role}: {len(seen)} pages at 390 px in nb, nn and en, and at 1366 px")
