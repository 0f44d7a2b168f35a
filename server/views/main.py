"""The front door and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from server.views.auth import home_for

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> WerkzeugResponse:
    """Send each person to their own home, or to sign in."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.sign_in"))


@bp.get("/healthz")
def health() -> tuple[str, int, dict[str, str]]:
    """For load balancers: the process answers. Touches no data."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}
