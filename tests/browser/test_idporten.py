"""ID-porten in headless Chromium: from Følge's sign-in page through the provider's pages
(a real oidc-provider on loopback) to the patient's home, and out again through ID-porten's
logout; axe on the new pages in nb, nn and en."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from server.config import OidcSettings
from server.extensions import db
from server.national_id import oidc, pid
from tests.browser.conftest import choose_language, files_read_at_once
from tests.conftest import World
from tests.oidc_provider import RunningProvider, free_port, openid_provider

Axe = Callable[[Page], list[dict[str, Any]]]
PID_KEY = "browser-pid-key-0123456789-abcdefghijklmnop"
KARI = "01017010170"


@pytest.fixture
def app_port() -> int:
    return free_port()


@pytest.fixture
def provider(tmp_path: Path, app_port: int) -> Iterator[RunningProvider]:
    with openid_provider(tmp_path, f"http://localhost:{app_port}") as running:
        yield running


@pytest.fixture
def config_overrides(provider: RunningProvider) -> dict[str, Any]:
    oidc.forget_clients()
    return {"idporten": OidcSettings(issuer=provider.issuer, client_id="folge-idporten",
                                     jwks=provider.client_jwks("folge-idporten")),
            "helseid": OidcSettings(issuer=provider.issuer, client_id="folge-helseid",
                                    jwks=provider.client_jwks("folge-helseid"), acr=""),
            "pid_key": PID_KEY}


@pytest.fixture
def live_server(app: Flask, app_port: int) -> Iterator[str]:
    """The app on the port the provider knows as its redirect address."""
    server = make_server("127.0.0.1", app_port, files_read_at_once(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{app_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_through_the_providers_pages_to_home_and_out_again(
        page: Page, world: World, provider: RunningProvider, axe: Axe) -> None:
    world.patient_x.user.pid_hash = pid.keyed_hash(KARI, PID_KEY)
    world.patient_x.user.pid_masked = pid.masked(KARI)
    db.session.commit()
    db.session.rollback()
    page.goto("/sign-in")
    axe(page)
    page.get_by_role("link", name="Sign in with ID-porten").click()
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.get_by_label("Test person").fill("kari")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/me/")
    expect(page.locator("main h1")).to_contain_text("Xena Pasient")
    page.locator("header").get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider.issuer}/session/end**")
    page.locator("button[autofocus], form button").first.click()  # the provider asks first
    page.wait_for_url("**/sign-in?signed_out=1")
    expect(page.locator(".flash")).to_contain_text("signed out of Følge and ID-porten")


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_new_pages_are_accessible(page: Page, world: World, provider: RunningProvider,
                                      axe: Axe, lang: str, staff_context,  # type: ignore[no-untyped-def]
                                      sign_in_staff: Callable[[Page, Any], None]) -> None:
    page.goto("/sign-in")
    choose_language(page, lang)
    for url in ("/sign-in", "/sign-in/idporten/problem/low_level",
                "/sign-in/idporten/problem/expired"):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        axe(page)
    page.goto("/sign-in/idporten")
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.get_by_label("Test person").fill("unknown")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in/oidc/callback**")
    expect(page.locator("main h1")).to_be_visible()
    axe(page)
    page.goto("/staff/sign-in")  # HelseID first, password and code below
    expect(page.locator("main a.button")).to_be_visible()
    axe(page)
    page.locator("main a.button").click()
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.get_by_label("Test person").fill("doctor")  # no staff account has this number
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/sign-in/oidc/callback**")
    expect(page.locator("main h1")).to_be_visible()
    axe(page)
    staff = staff_context.new_page()
    sign_in_staff(staff, world.coordinator_a)
    staff.goto(f"/staff/patients/{world.patient_x.id}/national-id")
    choose_language(staff, lang)
    expect(staff.locator("html")).to_have_attribute("lang", lang)
    axe(staff)
    staff.locator("main input[name=pid]").fill("01017010171")  # a wrong check digit
    staff.locator("main form button[type=submit]").click()
    expect(staff.locator(".error-summary")).to_be_visible()
    expect(staff.locator("main input[name=pid]")).to_have_value("01017010171")
    axe(staff)


def test_a_step_up_in_the_middle_of_a_message_keeps_what_was_written(
        page: Page, world: World, provider: RunningProvider) -> None:
    """Kari writes a message in an ID-porten session; the clinic now asks for the high level;
    her send goes to the step-up, and after ID-porten the form is back with her words."""
    world.patient_x.user.pid_hash = pid.keyed_hash(KARI, PID_KEY)
    db.session.commit()
    db.session.rollback()
    page.goto("/sign-in/idporten")
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.get_by_label("Test person").fill("kari")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/me/")
    page.goto("/me/messages/new")
    words = "Kan jeg flytte timen på torsdag til fredag?"
    page.locator("main form[data-draft] textarea").first.fill(words)
    page.wait_for_timeout(800)  # the draft is kept as it is typed
    from server.models import Clinic

    db.session.get(Clinic, world.clinic_a.id).messages_level = "idporten-loa-high"  # type: ignore[union-attr]
    db.session.commit()
    db.session.rollback()
    page.locator("main form[data-draft] button[type=submit]").first.click()
    page.wait_for_url("**/sign-in/step-up**")
    expect(page.locator("main h1")).to_contain_text("Sign in with BankID to go on")
    page.get_by_role("link", name="Sign in with ID-porten").click()
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.get_by_label("Test person").fill("kari")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/me/messages/new**")
    expect(page.locator("main form[data-draft] textarea").first).to_have_value(words)
