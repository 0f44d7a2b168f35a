"""Fixtures for the real-browser tests.

Each test gets its own app and database (the ``app`` fixture of tests/conftest.py)
served by a live werkzeug server in a thread, and its own browser context in
one headless Chromium shared by the whole run. Chromium is Debian's
(/usr/bin/chromium); Playwright's own browser downloads are not used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from server.extensions import db
from server.models import PatientProfile, User
from tests.conftest import PASSWORD, CapturingSms, totp_now

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: The WCAG levels Følge promises (universell utforming: WCAG 2.1 AA, plus 2.2 AA).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
#: Accept-Language for each app language.
LOCALES = {"nb": "nb-NO", "nn": "nn-NO", "en": "en-GB"}
TIMEOUT_MS = 10_000


# -- the live server -----------------------------------------------------------

def _read_at_once(file: Any, block_size: int = 8192) -> list[bytes]:
    """``wsgi.file_wrapper`` for the test server: the file is read and closed at once.

    Werkzeug's development server does not close a response when the browser drops the
    connection half-way (Chromium cancels an icon or a precache fetch now and then), so a
    streamed file stayed open until garbage collection, and its ResourceWarning failed
    whichever test came next. gunicorn closes responses; this is for the test server."""
    try:
        return [file.read()]
    finally:
        file.close()


def files_read_at_once(app: Any) -> Any:
    """``app`` with files served through _read_at_once (send_file and WhiteNoise use it)."""
    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.file_wrapper"] = _read_at_once
        return app(environ, start_response)

    return wrapped


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve this test's app on a free port; yield the base URL.

    The URL uses ``localhost`` rather than 127.0.0.1: WebAuthn needs a domain
    as relying-party id, and localhost counts as a secure context, so service
    workers and passkeys work over plain HTTP. Chromium maps localhost to the
    loopback addresses itself (no DNS) and falls back from ::1 to 127.0.0.1.
    """
    server: BaseWSGIServer = make_server("127.0.0.1", 0, files_read_at_once(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- the browser ---------------------------------------------------------------

@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium. Missing is a failure, not a skip: these tests must run."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver)", pytrace=False)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, chromium: str) -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    browser = playwright_instance.chromium.launch(
        executable_path=chromium, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_locale() -> str:
    """The browser's language (Accept-Language). Parametrize this name to change it."""
    return "en-GB"


@pytest.fixture
def context(browser: Browser, live_server: str, browser_locale: str) -> Iterator[BrowserContext]:
    """A fresh browser profile: no cookies, no service worker, a phone-sized window.

    It depends on ``live_server`` so that it is closed before the server stops.
    """
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
        locale=browser_locale,
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# -- signing in through the pages ------------------------------------------------

#: Screenshots for a person to look at (390x844); never committed.
SHOTS = Path("/tmp/shots")  # noqa: S108 (a place for people to look, never read back)


@pytest.fixture
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
def staff_context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """The doctor's browser (English, phone-sized), closed before the server stops."""
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 844},
                                  device_scale_factor=1, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def sign_in_patient(sms: CapturingSms) -> Callable[[Page, PatientProfile | User], None]:
    """Sign in as a patient or relative the way a person does: number, then SMS code."""

    def sign_in(page: Page, who: PatientProfile | User) -> None:
        user = who.user if isinstance(who, PatientProfile) else who
        phone = user.phone
        db.session.rollback()  # end the read, so this thread holds no database lock
        assert phone
        page.goto("/sign-in")
        page.locator('input[name="phone"]').fill(phone)
        page.locator('form[action$="/sign-in"] button[type="submit"]').click()
        page.wait_for_url("**/sign-in/code")
        page.locator('input[name="code"]').fill(sms.last_code(phone))
        page.locator('form[action$="/sign-in/code"] button[type="submit"]').click()
        page.wait_for_url("**/relative/" if user.is_relative else "**/me/")

    return sign_in


@pytest.fixture
def sign_in_staff(app: Flask) -> Callable[[Page, User], None]:
    """Sign in as staff: work email and password, then the authenticator code."""

    def sign_in(page: Page, user: User) -> None:
        email = user.email
        assert email
        page.goto("/staff/sign-in")
        page.locator('input[name="email"]').fill(email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.locator('form[action$="/staff/sign-in"] button[type="submit"]').click()
        page.wait_for_url("**/staff/sign-in/code")
        code = totp_now(user)
        db.session.rollback()
        page.locator('input[name="code"]').fill(code)
        page.locator('form[action$="/staff/sign-in/code"] button[type="submit"]').click()
        page.wait_for_url("**/staff/")

    return sign_in


def choose_language(page: Page, lang: str) -> None:
    """Press the language button in the footer and wait for the page to come back in it."""
    page.locator(f'footer button[name="lang"][value="{lang}"]').click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


# -- accessibility ---------------------------------------------------------------

def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v.get('help')} [{v.get('helpUrl')}]")
        for node in v.get("nodes", [])[:10]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS}): run: cd tests/browser && npm ci",
                    pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source: str) -> Callable[[Page], list[dict[str, Any]]]:
    """``axe(page)`` runs axe-core on the page and fails the test on any WCAG violation.

    How axe gets into the page: the app's Content Security Policy allows
    scripts from 'self' only, so an inline ``<script>`` with axe's source
    (``page.add_script_tag(content=...)``) is refused, and turning CSP off
    with ``bypass_csp=True`` would hide CSP mistakes from every other check.
    Instead axe's source is passed to ``page.evaluate`` as a plain expression,
    which Playwright hands to the DevTools protocol (Runtime.evaluate); CSP
    does not apply there, so the page keeps its real policy. (String
    predicates for ``page.wait_for_function`` are run with ``eval`` inside the
    page and *are* blocked by this CSP; these tests use ``page.evaluate`` with
    functions that return promises instead.)
    """

    def run(page: Page) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source + "\n;undefined")
        result = page.evaluate(
            """async (tags) => {
                const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                return {
                  violations: r.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map((n) => ({target: n.target,
                                                failureSummary: n.failureSummary})),
                  })),
                  passes: r.passes.length,
                };
            }""",
            AXE_TAGS,
        )
        violations = result["violations"]
        if violations:
            pytest.fail(
                f"axe found WCAG violations on {page.url} "
                f"(lang={page.locator('html').get_attribute('lang')}):\n{_describe(violations)}",
                pytrace=False,
            )
        assert result["passes"] > 0, "axe ran no checks at all"
        return violations

    return run
