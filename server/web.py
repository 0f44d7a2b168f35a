"""Request hooks, URL rules and template helpers shared by every page."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, has_request_context, jsonify, request, url_for
from flask_babel import (
    format_date,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
    gettext,
)
from werkzeug.routing import IntegerConverter, Map

from server import labels, policy
from server.models.user import LANGUAGES
from server.numbers import MAX_DIGITS, MAX_ID

#: How each language names itself in the switch.
LANGUAGE_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}

#: The only responses a browser may keep: the app shell, which holds nothing personal.
_SHELL_ENDPOINTS = {"static", "pwa.icon", "pwa.manifest", "pwa.service_worker", "pwa.offline"}


#: Endpoints that take a JSON body (the page's own scripts); every other POST takes a form.
JSON_ENDPOINTS = frozenset({
    "auth.passkey_options", "auth.passkey_finish", "account.passkey_options",
    "account.passkey_add", "reminders.push_subscribe", "reminders.push_unsubscribe",
})


class IdConverter(IntegerConverter):
    """``<int:...>`` in every URL: an id of 1 to 2^31 - 1 (PostgreSQL's INTEGER), so a
    larger number answers 404 instead of reaching the database as an error."""

    regex = rf"\d{{1,{MAX_DIGITS}}}"

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = 1,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _refuse_unexpected_bodies() -> Response | None:
    """A JSON body goes only to the endpoints that read JSON, and only as an object.

    Forms read JSON as if it were form data, so a JSON list or string sent to a form
    broke the form and then the error page; it is refused here, before anything runs.
    """
    if request.method != "POST" or not request.is_json or request.blueprint == "fhir":
        return  # the FHIR interface reads its own bodies (server/fhir/views.py)
    if request.endpoint not in JSON_ENDPOINTS:
        abort(415)
    body = request.get_json(silent=True)
    if (body is not None and not isinstance(body, dict)) or \
            (body is None and request.get_data(cache=True)):  # not an object, or not JSON
        response = jsonify(error=gettext("Something in the request was wrong. Reload the page "
                                         "and try again."))
        response.status_code = 400
        return response
    return None


def safe_next(target: str | None, default: str = "main.index") -> str:
    """A path on this site to return to, from a ``next`` value; anything else gives the
    ``default`` endpoint's URL.

    Refused: another host ("//evil.example", "https://..."), a backslash (browsers read
    it as a slash), and any control or space character, since browsers drop tabs and
    new lines, so "/\t/evil.example" would become "//evil.example" (and CR/LF would
    break the Location header).
    """
    fallback = url_for(default)
    if not target or not target.startswith("/") or len(target) > 2000:
        return fallback
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return fallback
    return target


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
        "current_locale": getattr(get_locale(), "language", None) or "nb",
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "current_path": request.full_path.rstrip("?") if request else "/",
        "queue_owner": _queue_owner(),
        "main_nav": main_nav(),
        "me_url": me_url(),
        "idle_seconds": _idle_seconds(),
        "service": current_app.config["FOLGE"].service,
    }


def main_nav() -> list[object]:
    from server.navigation import main_nav as items

    return list(items())


def _idle_seconds() -> int:
    """How long the signed-in person may be idle before the session ends (static/js/idle.js)."""
    from flask_login import current_user

    from server.services.sessions import idle_limit

    if not current_user.is_authenticated:
        return 0
    return int(idle_limit(current_user.role).total_seconds())


def me_url() -> str:
    from server.navigation import me_url as url

    return url()


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


def when_words(value: datetime | None) -> str:
    """A time in words relative to today, in Oslo: "Today at 10:00", "Tomorrow at 13:30",
    else "Tuesday 8 December at 09:15" (the year only when it is not this year)."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    from flask_babel import get_locale

    from server.models.base import utcnow

    zone = ZoneInfo("Europe/Oslo")
    day, today = value.astimezone(zone).date(), utcnow().astimezone(zone).date()
    at = format_time(value, "HH:mm")
    if day == today:
        return gettext("Today at %(time)s", time=at)
    if (day - today).days == 1:
        return gettext("Tomorrow at %(time)s", time=at)
    language = getattr(get_locale(), "language", None) or "nb"
    pattern = _DAY_PATTERNS.get(language, _DAY_PATTERNS["nb"])
    words = format_date(day, pattern if day.year == today.year else f"{pattern} y")
    return gettext("%(date)s at %(time)s", date=words[:1].upper() + words[1:], time=at)


#: A weekday and a date in words, per language ("tirsdag 8. desember", "Tuesday 8 December").
_DAY_PATTERNS = {"nb": "EEEE d. MMMM", "nn": "EEEE d. MMMM", "en": "EEEE d MMMM"}


def format_time_hm(value: datetime | None) -> str:
    """A time of day, 24-hour, in Oslo: "08:14"."""
    return format_time(value, "HH:mm") if value is not None else ""


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
    """Wire hooks and template helpers; called before the blueprints are registered, so
    every ``<int:...>`` rule uses IdConverter."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_unexpected_bodies)
    app.before_request(policy.check_request)
    app.after_request(_no_store)
    app.context_processor(_template_globals)
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["format_day"] = format_day
    app.jinja_env.filters["when_words"] = when_words
    app.jinja_env.filters["format_time_hm"] = format_time_hm
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["decimal1"] = decimal1
    app.jinja_env.globals["policy"] = policy
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.add_extension("jinja2.ext.do")
