"""The front door and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
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


def _controller() -> str:
    """The data controller: as configured, else the health trust of the person's clinic."""
    configured = current_app.config["FOLGE"].service.controller
    if configured:
        return str(configured)
    profile = getattr(current_user, "patient_profile", None) if current_user.is_authenticated \
        else None
    return profile.clinic.health_trust if profile is not None else ""


@bp.get("/privacy")
def privacy() -> str:
    """The privacy notice, in plain words. Public: read it before signing in."""
    return render_template("about/privacy.html", controller=_controller())


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement, in the structure of uustatus.no. Public."""
    return render_template("about/accessibility.html")
