"""Development-only pages. This blueprint is registered only when FOLGE_ENV=development."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from server.extensions import db
from server.models import DevSms

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
def outbox() -> str:
    """The SMS the development adapter would have sent, newest first."""
    messages = db.session.scalars(select(DevSms).order_by(DevSms.id.desc()).limit(50)).all()
    return render_template("dev/outbox.html", messages=messages)
