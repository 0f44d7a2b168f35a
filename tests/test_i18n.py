"""Three languages: complete catalogs, a fresh template, the right <html lang>, a remembered choice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from server.config import PROJECT_ROOT
from server.extensions import db
from tests.conftest import Client, World, sign_in_as

TRANSLATIONS = PROJECT_ROOT / "translations"
LOCALES = ("nb", "nn", "en")


def load(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return read_po(handle)


def ids(catalog) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_has_every_message_translated_and_nothing_fuzzy(locale: str) -> None:
    template = load(TRANSLATIONS / "messages.pot")
    catalog = load(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    assert ids(catalog) >= ids(template), f"{locale} misses: {ids(template) - ids(catalog)}"
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"{locale}: fuzzy {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"{locale}: untranslated {message.id!r}"
    assert len(template) > 100


def test_messages_pot_is_not_stale(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        ["bash", str(PROJECT_ROOT / "scripts" / "translations.sh"), "extract", str(fresh)],
        check=True, cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYBABEL": str(Path(__import__("sys").executable).parent
                                                    / "pybabel")},
    )
    assert ids(load(fresh)) == ids(load(TRANSLATIONS / "messages.pot")), \
        "messages.pot is stale: run scripts/translations.sh update"


@pytest.mark.parametrize(
    ("accept", "lang", "phrase"),
    [
        ("nb-NO,nb;q=0.9", "nb", "Logg inn"),
        ("no", "nb", "Logg inn"),
        ("nn-NO,nn;q=0.9,nb;q=0.8", "nn", "Logg inn"),
        ("en-GB,en;q=0.9", "en", "Sign in"),
        ("de-DE,de;q=0.9", "nb", "Logg inn"),
        ("sv-SE,en;q=0.5", "en", "Sign in"),
    ],
)
def test_first_visit_takes_the_browsers_language(
    new_client, accept: str, lang: str, phrase: str  # type: ignore[no-untyped-def]
) -> None:
    page = new_client(accept).get("/sign-in").text
    assert f'<html lang="{lang}">' in page
    assert phrase in page


@pytest.mark.parametrize("lang", LOCALES)
def test_pages_carry_the_right_lang_for_each_locale(
    new_client, world: World, lang: str  # type: ignore[no-untyped-def]
) -> None:
    for user, url in ((world.patient_x.user, "/me/"), (world.doctor_a, "/staff/"),
                      (None, "/staff/sign-in"), (None, f"/offline/{lang}")):
        browser = new_client(lang)
        if user is not None:
            sign_in_as(browser, user)
        response = browser.get(url)
        assert response.status_code == 200
        assert f'<html lang="{lang}">' in response.text, url


def test_switch_is_on_every_page_and_remembered_for_the_user(
    client: Client, world: World, new_client  # type: ignore[no-untyped-def]
) -> None:
    sign_in_as(client, world.patient_x.user)
    home = client.get("/me/").text
    assert 'name="lang" value="nn"' in home
    response = client.submit("/language", {"lang": "nn", "next": "/me/who-has-seen"}, page="/me/")
    assert response.headers["Location"].endswith("/me/who-has-seen")
    assert '<html lang="nn">' in client.get("/me/").text
    assert world.patient_x.user.language == "nn"
    # Another browser that prefers English still gets nynorsk once signed in.
    other = new_client("en")
    sign_in_as(other, world.patient_x.user)
    assert '<html lang="nn">' in other.get("/me/").text


def test_switch_before_sign_in_is_kept_through_sign_in(client: Client, world: World) -> None:
    client.submit("/language", {"lang": "nn", "next": "/sign-in"}, page="/sign-in")
    assert '<html lang="nn">' in client.get("/sign-in").text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_switch_never_redirects_off_site(client: Client, target: str) -> None:
    response = client.submit("/language", {"lang": "en", "next": target}, page="/sign-in")
    assert response.headers["Location"] == "/"


def test_unknown_language_changes_nothing(client: Client, world: World) -> None:
    sign_in_as(client, world.patient_x.user)
    client.submit("/language", {"lang": "de", "next": "/me/"}, page="/me/")
    db.session.refresh(world.patient_x.user)
    assert world.patient_x.user.language is None


def test_every_enum_that_staff_or_patients_read_has_a_label() -> None:
    """A new message purpose, access-log target or relative scope needs its words."""
    from server import labels
    from server.models import AccessTarget, MessagePurpose, RelativeScope

    assert {p.value for p in MessagePurpose} <= set(labels.MESSAGE_PURPOSE)
    assert set(AccessTarget) <= set(labels.ACCESS_TARGETS)
    assert {s.value for s in RelativeScope} <= set(labels.RELATIVE_SCOPES)
    assert {s.value for s in RelativeScope} <= set(labels.RELATIVE_SCOPES_STAFF)


def test_templates_translate_in_the_forced_language_and_back(app: Flask) -> None:
    """Templates keep the request's catalog on g (server/locales.py); a text rendered in the
    patient's language during a staff request must still get that language, and the page
    its own again afterwards."""
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Sign out') }}") == "Sign out"
        with force_locale("nb"):
            assert render_template_string("{{ _('Sign out') }}") == "Logg ut"
            with force_locale("nn"):
                forced = render_template_string("{{ ngettext('%(num)d gap', '%(num)d gaps', 2) }}")
                assert forced == "2 hol"
        assert render_template_string("{{ _('Sign out') }}") == "Sign out"


def test_template_gettext_escapes_its_values_and_formats_like_jinja(app: Flask) -> None:
    """server/locales.py calls the catalog directly instead of through Jinja's two layers;
    what a template gets must stay what Jinja's newstyle gettext gives: the translated text
    trusted, the values escaped, "%%" for a percent sign, ``num`` for ngettext."""
    from flask import render_template_string

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        hello = render_template_string("{{ _('Hello, %(name)s', name=who) }}",
                                       who="<b>Kari</b> & Ola")
        assert hello == "Hei, &lt;b&gt;Kari&lt;/b&gt; &amp; Ola"
        assert render_template_string("{{ _('100%% sure') }}") == "100% sure"
        # The text itself is trusted (a string not in the catalog comes back as it is).
        assert render_template_string("{{ _('<em>Not</em> %(what)s', what='<i>') }}") == \
            "<em>Not</em> &lt;i&gt;"
        assert render_template_string("{{ gettext('Sign out') }}") == "Logg ut"
        assert render_template_string(
            "{{ ngettext('%(num)d gap', '%(num)d gaps', n) }}", n=3) == "3 hull"
        # With autoescaping off ({% autoescape false %}, as for a plain-text body) the
        # values go in as they are.
        assert render_template_string(
            "{% autoescape false %}{{ _('Hello, %(name)s', name='<b>') }}{% endautoescape %}"
        ) == "Hei, <b>"
