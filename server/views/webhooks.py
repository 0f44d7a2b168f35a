"""Signed webhooks from the SMS provider: inbound SMS and delivery reports.

Public endpoints (no session), exempt from CSRF because the provider cannot
hold a token; instead every request must carry a valid Twilio signature
(HMAC-SHA1 over the URL and the parameters, checked by the twilio package).
Unsigned or wrongly signed requests get 403 and change nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator

from server.config import Config
from server.extensions import csrf, limiter
from server.services import sms_inbound

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _check_signature() -> None:
    config: Config = current_app.config["FOLGE"]
    if not config.twilio_auth_token:
        abort(403)
    # Behind a proxy the provider signed the public URL, not the one we see.
    url = (config.public_base_url + request.full_path.rstrip("?")) if config.public_base_url \
        else request.url
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(config.twilio_auth_token).validate(
            url, request.form.to_dict(), signature):
        abort(403)


@bp.post("/sms/inbound")
@limiter.limit("600 per minute")
def inbound() -> tuple[str, int, dict[str, str]]:
    """An SMS from a person. We answer through the outbox, not in the webhook reply."""
    _check_signature()
    message_id = request.form.get("MessageSid", "")
    if not message_id:
        abort(400)
    sms_inbound.receive(message_id, request.form.get("From", ""), request.form.get("Body", ""))
    return EMPTY_TWIML, 200, {"Content-Type": "text/xml"}


@bp.post("/sms/status")
@limiter.limit("1200 per minute")
def status() -> tuple[str, int]:
    """Delivery report for an SMS we sent."""
    _check_signature()
    message_id = request.form.get("MessageSid", "")
    if not message_id:
        abort(400)
    sms_inbound.delivery_report(message_id, request.form.get("MessageStatus", ""))
    return "", 204
