"""Which sign-in level a page needs, and what the current session has.

Levels, lowest first: "low" (a code by SMS, a password, or a passkey added in such a session),
idporten-loa-substantial, idporten-loa-high. A passkey added in an ID-porten session signs in
at that session's level. Each clinic decides what its patients' messages and take-home pages
need (contact and care team settings); a page that needs more than the session has sends the
patient to a step-up with ID-porten and back to the same page. Forms with a draft
(static/js/drafts.js) keep what was typed in the browser meanwhile.
"""

from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import abort
from werkzeug.utils import redirect

from server.config import IDPORTEN_LEVELS
from server.services import sessions

ORDER = ("low", *IDPORTEN_LEVELS)

#: What a clinic may ask for, in its settings.
CHOICES = (
    ("low", _l("A code by SMS is enough")),
    (IDPORTEN_LEVELS[0], _l("ID-porten (substantial), or a passkey added after it")),
    (IDPORTEN_LEVELS[1], _l("ID-porten (high), or a passkey added after it")),
)

#: The patient areas (blueprints) a clinic can guard, and its column for each.
GUARDED = {"messages": "messages_level", "take_home": "take_home_level"}


def reaches(have: str, need: str) -> bool:
    """Whether level ``have`` is at least ``need`` (an unknown level counts as low)."""
    rank = {level: n for n, level in enumerate(ORDER)}
    return rank.get(have, 0) >= rank.get(need, 0)


def current_level() -> str:
    """The level of this request's session ("low" when unknown)."""
    row = sessions.current_row(current_user.get_id()) if current_user.is_authenticated else None
    return row.level if row is not None else "low"


def required(blueprint: str | None) -> str:
    """The level this patient's clinic asks for the area, or "low"."""
    column = GUARDED.get(blueprint or "")
    if column is None or current_app.config["FOLGE"].idporten is None or \
            not current_user.is_authenticated or not current_user.is_patient:
        return "low"
    profile = current_user.patient_profile
    return str(getattr(profile.clinic, column, "low")) if profile is not None else "low"


def enforce() -> None:
    """Before a request: a guarded page the session does not reach goes to the step-up."""
    need = required(request.blueprint)
    if need != "low" and not reaches(current_level(), need):
        abort(redirect(url_for("national_id.step_up", next=request.full_path.rstrip("?"),
                               need=need)))
