"""The relative's (pårørende) own pages. Invitations and scopes come in a later issue."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("relative", __name__, url_prefix="/relative")


@bp.get("/")
def home() -> str:
    """Home for a relative: what they have access to (nothing until invited)."""
    return render_template("relative/home.html")
