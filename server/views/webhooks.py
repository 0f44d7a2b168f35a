"""Signed webhooks from the SMS provider: inbound SMS and delivery reports.

Public endpoints (no session), exempt from CSRF because the provider cannot
hold a token; instead every request must carry a valid Twilio signature
(HMAC-SHA1 over the URL and the parameters, checked by the twilio package)
over parameters that are exactly the ones Twilio sends, each in its own
format (server/notify/twilio_webhook.py). Unsigned or wrongly signed
requests get 403, malformed ones 400, and neither changes anything.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator

from server.config import Config
from server.extensions import csrf, limiter
from server.links import public_base
from server.notify.twilio_webhook import INBOUND, STATUS, WebhookRefused, check_parameters
from server.services import sms_inbound

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _signed_parameters(spec: dict[str, str], required: tuple[str, ...]) -> dict[str, str]:
    """The parameters of a request Twilio signed for us, or abort (403 or 400)."""
    config: Config = current_app.config["FOLGE"]
    if not config.twilio_auth_token:
        abort(403)
    # The provider signed the public URL, not the one we see behind a proxy.
    url = public_base() + request.full_path.rstrip("?")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not RequestValidator(config.twilio_auth_token).validate(
            url, request.form.to_dict(), signature):
        abort(403)
    try:
        return check_parameters(request.form, spec, required, config.twilio_account_sid,
                                config.twilio_extra_params)
    except WebhookRefused as exc:
        current_app.logger.warning("Twilio webhook refused: %s", exc.reason)
        abort(400)


@bp.post("/sms/inbound")
@limiter.limit("600 per minute")
def inbound() -> tuple[str, int, dict[str, str]]:
    """An SMS from a person. We answer through the outbox, not in the webhook reply."""
    params = _signed_parameters(INBOUND, ("MessageSid", "From", "Body"))
    sms_inbound.receive(params["MessageSid"], params["From"], params["Body"])
    return EMPTY_TWIML, 200, {"Content-Type": "text/xml"}


@bp.post("/sms/status")
@limiter.limit("1200 per minute")
def status() -> tuple[str, int]:
    """Delivery report for an SMS we sent."""
    params = _signed_parameters(STATUS, ("MessageSid", "MessageStatus"))
    sms_inbound.delivery_report(params["MessageSid"], params["MessageStatus"])
    return "", 204
