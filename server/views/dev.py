"""Development-only pages. This blueprint is registered only when FOLGE_ENV=development."""

from __future__ import annotations

from flask import Blueprint, render_template

from server.notify import sms

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox() -> str:
    """The SMS the development adapter would have sent, newest first."""
    return render_template("dev/outbox.html", messages=sms.dev_outbox())
