"""Request hooks and template helpers shared by every page."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

from flask import Flask, Response, has_request_context, request
from flask_babel import (
    format_date,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
    gettext,
)

from server import labels, policy
from server.forms.common import ConfirmForm, LanguageForm
from server.models.user import LANGUAGES

#: How each language names itself in the switch.
LANGUAGE_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}

#: The only responses a browser may keep: the app shell, which holds nothing personal.
_SHELL_ENDPOINTS = {"static", "pwa.icon", "pwa.manifest", "pwa.service_worker", "pwa.offline"}


def _no_store(response: Response) -> Response:
    """No page may be kept by the browser or a proxy: signed-in pages hold personal
    data and sign-in pages hold a CSRF token. Only the app shell is cacheable."""
    if request.endpoint not in _SHELL_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


def _template_globals() -> dict[str, object]:
    if not has_request_context():
        return {}  # notification texts and letters are rendered by the worker, outside requests
    return {
        "current_locale": str(get_locale() or "nb"),
        "language_form": LanguageForm(),
        "sign_out_form": ConfirmForm(),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "current_path": request.full_path.rstrip("?") if request else "/",
        "queue_owner": _queue_owner(),
    }


def _queue_owner() -> str:
    """An opaque id of the signed-in person for static/js/offline-queue.js, so a request
    kept on a shared phone is only ever sent or shown for the person who made it."""
    from flask import current_app
    from flask_login import current_user

    if not current_user.is_authenticated:
        return ""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"queue:{current_user.id}".encode(), hashlib.sha256).hexdigest()[:24]


def local_datetime(value: datetime | None, fmt: str = "long") -> str:
    """An aware UTC datetime as a date and 24-hour time in Europe/Oslo, in the current language.

    ``fmt`` is a Babel date format ("long": 15 January 2026, "short": 15.01.2026).
    """
    if value is None:
        return ""
    return gettext("%(date)s at %(time)s", date=format_date(value, fmt),
                   time=format_time(value, "HH:mm"))


def format_day(value: date | None, fmt: str = "long") -> str:
    """A calendar day (no time) in the current language, e.g. "24. desember 2026"."""
    return format_date(value, fmt) if value is not None else ""


def percent(value: float) -> str:
    """A share as a whole percentage in the current language, e.g. "67 %"."""
    return format_percent(value, "#,##0 %")


def decimal1(value: float) -> str:
    """A number with one decimal in the current language, e.g. "2,5"."""
    return format_decimal(value, "#,##0.0")


def init_app(app: Flask) -> None:
    app.before_request(policy.check_request)
    app.after_request(_no_store)
    app.context_processor(_template_globals)
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["format_day"] = format_day
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["decimal1"] = decimal1
    app.jinja_env.globals["policy"] = policy
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.add_extension("jinja2.ext.do")
