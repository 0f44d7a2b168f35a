"""The installable app: service worker, offline page in the right language, manifest."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, Playwright, expect

from tests.browser.conftest import CHROMIUM_ARGS, LOCALES, TIMEOUT_MS, choose_language
from tests.conftest import World

pytestmark = pytest.mark.browser

#: Resolves once a service worker controls the page, false after 5 s.
WAIT_FOR_CONTROLLER = """() => new Promise((resolve) => {
  if (navigator.serviceWorker.controller) return resolve(true);
  navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
  setTimeout(() => resolve(false), 5000);
})"""

#: The language the service worker has stored for the offline page (polls for up to 5 s).
WAIT_FOR_STORED_LANGUAGE = """async (want) => {
  for (let i = 0; i < 100; i++) {
    const cache = await caches.open("folge-settings");
    const hit = await cache.match("/__language");
    const lang = hit ? await hit.text() : null;
    if (lang === want) return lang;
    await new Promise((r) => setTimeout(r, 50));
  }
  const hit = await (await caches.open("folge-settings")).match("/__language");
  return hit ? await hit.text() : null;
}"""

#: Every URL in every cache of this origin.
CACHED_URLS = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    found[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
  }
  return found;
}"""


def wait_for_service_worker(page: Page) -> None:
    """Wait until the service worker controls the page (it claims open pages on activation)."""
    if not page.evaluate(WAIT_FOR_CONTROLLER):
        page.reload()  # pragma: no cover - only when claim() lost the race
        assert page.evaluate(WAIT_FOR_CONTROLLER), "no service worker took control of the page"


def test_service_worker_controls_the_whole_app(page: Page, live_server: str) -> None:
    page.goto("/sign-in")
    wait_for_service_worker(page)
    registration = page.evaluate("""async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return {scope: r.scope, script: r.active && r.active.scriptURL,
              controller: navigator.serviceWorker.controller.scriptURL};
    }""")
    assert registration == {"scope": live_server + "/", "script": live_server + "/sw.js",
                            "controller": live_server + "/sw.js"}

    # The shell is precached: offline pages for every language, nothing else personal.
    cached = page.evaluate(CACHED_URLS)
    shell = [urls for name, urls in cached.items() if name.startswith("folge-shell-")]
    assert len(shell) == 1, cached
    assert {"/offline/nb", "/offline/nn", "/offline/en", "/static/js/app.js"} <= set(shell[0])

    # The worker is always fetched fresh, and the version placeholder is filled in.
    response = page.request.get("/sw.js")
    assert response.ok
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "__SHELL_VERSION__" not in response.text()
    assert re.search(r'const VERSION = "[0-9a-f]{12}";', response.text())


@pytest.mark.parametrize(
    ("browser_locale", "lang"),
    [(LOCALES["en"], "nb"), (LOCALES["nb"], "en"), (LOCALES["en"], "nn")],
)
def test_offline_page_in_the_language_last_used(
    page: Page, app: Flask, browser_locale: str, lang: str
) -> None:
    # The browser starts in another language; the person then picks ``lang`` in the footer,
    # so the worker has to take the new language from the page (static/js/app.js).
    page.goto("/sign-in")
    wait_for_service_worker(page)
    first = page.locator("html").get_attribute("lang")
    assert first != lang
    assert page.evaluate(WAIT_FOR_STORED_LANGUAGE, first) == first
    choose_language(page, lang)
    assert page.evaluate(WAIT_FOR_STORED_LANGUAGE, lang) == lang

    page.context.set_offline(True)
    try:
        page.goto("/sign-in?after=offline")
    finally:
        page.context.set_offline(False)
    with force_locale(lang):
        heading = gettext("No connection")
        lead = gettext("Your phone is not connected to the internet right now, "
                       "so this page cannot be shown.")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("p.lead")).to_have_text(lead)
    # The offline page keeps the app's look: its stylesheet came from the cache.
    assert page.evaluate("() => document.styleSheets.length === 1 && "
                         "document.styleSheets[0].cssRules.length > 0")


def test_personal_pages_are_not_cached_and_sign_out_clears_copies(
    page: Page, world: World, sign_in_patient: Callable[..., None]
) -> None:
    page.goto("/sign-in")
    wait_for_service_worker(page)
    sign_in_patient(page, world.patient_x)
    page.goto("/me/who-has-seen")
    page.goto("/account/passkeys")
    cached = page.evaluate(CACHED_URLS)
    everything = [url for urls in cached.values() for url in urls]
    assert not [u for u in everything if u.startswith(("/me", "/account", "/staff"))], cached

    # A copy kept on this phone (a future feature) must be gone after signing out.
    page.evaluate("""async () => {
      const cache = await caches.open("folge-personal-test");
      await cache.put("/me/copy", new Response("private"));
    }""")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in\?signed_out=1$"))
    gone = page.evaluate("""async () => {
      for (let i = 0; i < 100; i++) {
        if (!(await caches.keys()).some((n) => n.startsWith("folge-personal"))) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    }""")
    assert gone, page.evaluate("() => caches.keys()")


def test_installable(playwright_instance: Playwright, chromium: str, live_server: str,
                     tmp_path: Path) -> None:
    # Chromium reports every Playwright context as incognito ("in-incognito"), where
    # nothing can be installed, so this test uses a real (persistent) profile.
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=chromium, headless=True,
        args=CHROMIUM_ARGS, base_url=live_server, viewport={"width": 390, "height": 844},
    )
    try:
        context.set_default_timeout(TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/sign-in")
        wait_for_service_worker(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == live_server + "/manifest.webmanifest"
        assert manifest["errors"] == []
        parsed = manifest["manifest"]
        assert parsed["startUrl"] == live_server + "/"
        assert parsed["scope"] == live_server + "/"
        assert parsed["display"] == "kStandalone"
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    finally:
        context.close()
