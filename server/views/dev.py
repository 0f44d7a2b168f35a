"""Development-only pages. This blueprint is registered only when FOLGE_ENV=development,
and even then answers only requests made on this machine (loopback, with no proxy between):
the outbox shows every sign-in code."""

from __future__ import annotations

import ipaddress
import secrets

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from server.extensions import db
from server.forms.common import ConfirmForm
from server.models import DevEmail
from server.notify import sms
from server.services import sms_inbound

bp = Blueprint("dev", __name__, url_prefix="/dev")

#: Headers a proxy adds; with one of them the request did not come from this machine's browser.
_FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP")


def from_this_machine() -> bool:
    """True for a request from a loopback address that passed through no proxy."""
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
    return loopback and not any(h in request.headers for h in _FORWARDING_HEADERS)


@bp.before_request
def _only_from_this_machine() -> None:
    if not from_this_machine():
        abort(404)


@bp.get("/outbox")
def outbox() -> str:
    """The SMS the development adapter would have sent, newest first."""
    emails = db.session.scalars(select(DevEmail).order_by(DevEmail.id.desc()).limit(50)).all()
    return render_template("dev/outbox.html", messages=sms.dev_outbox(), form=ConfirmForm(),
                           emails=emails)


@bp.post("/reply")
def reply() -> WerkzeugResponse:
    """Pretend a person answered by SMS, as the provider's webhook would report it."""
    if ConfirmForm().validate_on_submit():
        sms_inbound.receive(f"dev-in-{secrets.token_hex(8)}", request.form.get("from", ""),
                            request.form.get("body", ""))
    return redirect(url_for("dev.outbox"))
