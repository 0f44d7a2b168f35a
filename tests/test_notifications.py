"""Notification text never names the treatment, a drug or the clinic's type (DOMAIN.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask, render_template
from flask_babel import force_locale

from server.config import PROJECT_ROOT
from server.notify import texts

#: Words that must never reach a lock screen, an SMS or an envelope.
FORBIDDEN = re.compile(
    r"\b(LAR|rus|rusmiddel\w*|metadon|methadone|buprenorfin|buprenorphine|subutex|suboxone|"
    r"morfin|morphine|opioid\w*|heroin|legemiddel\w*|medisin\w*|medication|dose\w*|"
    r"poliklinikk|avhengighet|addiction|TSB|take-home|utlevering\w*)\b",
    re.IGNORECASE,
)

TEMPLATES = sorted(
    str(p.relative_to(PROJECT_ROOT / "templates"))
    for p in (PROJECT_ROOT / "templates" / "notifications").rglob("*.txt")
)


def test_there_are_notification_templates() -> None:
    assert "notifications/sms/sign_in_code.txt" in TEMPLATES


#: Values as the worker gives them: a service name that must never show up.
PARAMS = {
    "starts_at": datetime(2026, 3, 10, 9, 30, tzinfo=UTC).isoformat(),
    "address": "Storgata 1, 0155 Oslo",
    "meeting": "in_person",
    "prepare": "Ta med legitimasjon",
    "service_name": "LAR-poliklinikken",
}


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("locale", ["nb", "nn", "en"])
def test_notification_text_is_discreet(app: Flask, template: str, locale: str) -> None:
    channel, name = template.split("/")[1:]
    name = name.removesuffix(".txt")
    if name in ("sign_in_code", "verify_number"):
        with app.test_request_context(), force_locale(locale):
            text = render_template(template, code="123456", minutes=10).strip()
        assert "123456" in text
    else:
        text = texts.render(name, channel, PARAMS, locale,
                            now=datetime(2026, 3, 9, 12, 0, tzinfo=UTC)).body
    assert text
    assert not FORBIDDEN.search(text), f"{template} [{locale}]: {text}"
    if channel == "sms":
        assert len(text) <= 160, f"one SMS segment: {text}"
    if channel in ("sms", "push") and "starts_at" in text:
        raise AssertionError("a raw value leaked")


@pytest.mark.parametrize("locale", ["nb", "nn", "en"])
def test_reminder_says_day_and_time_in_oslo_time(app: Flask, locale: str) -> None:
    text = texts.render("reminder", "push", PARAMS, locale,
                        now=datetime(2026, 3, 9, 12, 0, tzinfo=UTC)).body
    assert "10:30" in text
    assert {"nb": "i morgen", "nn": "i morgon", "en": "tomorrow"}[locale] in text


def test_the_word_check_catches_what_it_must() -> None:
    for bad in ("Din LAR-time", "Husk metadon", "Opioid treatment", "Rus-poliklinikk"):
        assert FORBIDDEN.search(bad)
    assert not FORBIDDEN.search("Du har en avtale i morgen kl. 10:00")


def test_forbidden_words_never_in_notification_sources() -> None:
    for path in Path(PROJECT_ROOT / "templates" / "notifications").rglob("*"):
        if path.is_file():
            assert not FORBIDDEN.search(path.read_text()), path
