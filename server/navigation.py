"""The navigation on every signed-in page of patients and relatives.

One list of links, shown as a bar at the bottom of a phone screen and as a menu in the
header on wide screens (static/css/app.css). The link of the page itself has
``aria-current="page"``; on a deeper page the link of its section has
``aria-current="true"``. Staff keep their own navigation (templates/staff/_nav.html).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from server.models import Role


@dataclass(frozen=True)
class NavItem:
    label: LazyString
    href: str
    #: "page" on the page itself, "true" on a page within its section, "" elsewhere.
    current: str
    #: A short name of an icon in static/css/app.css (drawn with CSS, no image files).
    icon: str


#: (label, endpoint, icon, the blueprints and endpoints of its section)
_PATIENT = (
    (_l("Home"), "patient.home", "home",
     ("patient.home", "team", "take_home", "feedback", "relatives", "relative_team")),
    (_l("Appointments"), "appointments.index", "calendar", ("appointments",)),
    (_l("Messages"), "messages.index", "message", ("messages",)),
    (_l("Me"), "patient.me", "person",
     ("patient.me", "patient.access_log_page", "reminders", "account", "signed_in")),
)
_RELATIVE = (
    (_l("Home"), "relative.home", "home", ("relative", "relative_team")),
    (_l("Me"), "relative.me", "person", ("relative.me", "account", "signed_in")),
)


def _match(endpoint: str, section: tuple[str, ...]) -> int:
    """How well the current page belongs to a section: 3 it is the section's own page, 2 its
    endpoint is listed, 1 its blueprint is listed, 0 not at all."""
    current, blueprint = request.endpoint or "", request.blueprint or ""
    if current == endpoint:
        return 3
    if current in section:
        return 2
    return 1 if blueprint in section else 0


def main_nav() -> list[NavItem]:
    """The links for the signed-in patient or relative; none for staff or anonymous."""
    if not current_user.is_authenticated:
        return []
    table = {Role.PATIENT: _PATIENT, Role.RELATIVE: _RELATIVE}.get(current_user.role)
    if table is None:
        return []
    scores = [_match(endpoint, section) for _label, endpoint, _icon, section in table]
    best = max(scores)
    return [NavItem(label, url_for(endpoint),
                    ("page" if score == 3 else "true") if score == best and score else "", icon)
            for (label, endpoint, icon, _section), score in zip(table, scores, strict=True)]


def me_url() -> str:
    """Where the pages shared by every role (passkeys, where you are signed in) lead back
    to: the person's own "Me" page, or the staff start page."""
    if current_user.is_authenticated and current_user.role is Role.PATIENT:
        return url_for("patient.me")
    if current_user.is_authenticated and current_user.role is Role.RELATIVE:
        return url_for("relative.me")
    return url_for("main.index")
