"""What a Twilio webhook request may carry, and the check that it carries nothing else.

Twilio signs a webhook with HMAC-SHA1 over the URL followed by every
parameter's name and value, sorted by name and joined without separators.
That joining lets a signed request be cut up differently: the same
characters, split into other names and values, keep the signature. So a
valid signature is not enough. A request is accepted only when every
parameter is one Twilio sends, appears once, and has that parameter's own
format (a message id is ``SM`` or ``MM`` and 32 hex digits, a number is
E.164, ...), and when it belongs to our own Twilio account. A re-split request
breaks at least one of those rules.

Twilio says it may add parameters without notice. A parameter we do not know
is refused and logged with its name, so an operator can add it to
``FOLGE_TWILIO_EXTRA_PARAMS`` (free text of at most 200 characters) once it
is known to be Twilio's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from werkzeug.datastructures import MultiDict

log = logging.getLogger("folge.webhooks")

_SID = r"(SM|MM)[0-9a-f]{32}"
_E164 = r"\+[1-9][0-9]{6,14}"
_PLACE = r"[^\x00-\x1f\x7f]{0,64}"
_STATUS = r"[a-z_-]{1,32}"

#: Parameters of an incoming message (SMS; MMS media fields included).
INBOUND: dict[str, str] = {
    "MessageSid": _SID, "SmsSid": _SID, "SmsMessageSid": _SID,
    "AccountSid": r"AC[0-9a-f]{32}", "MessagingServiceSid": r"MG[0-9a-f]{32}",
    "From": _E164, "To": _E164,
    "Body": r"[^\x00]{0,1600}",
    "NumMedia": r"[0-9]{1,2}", "NumSegments": r"[0-9]{1,2}", "ReferralNumMedia": r"[0-9]{1,2}",
    "FromCity": _PLACE, "FromState": _PLACE, "FromZip": _PLACE, "FromCountry": _PLACE,
    "ToCity": _PLACE, "ToState": _PLACE, "ToZip": _PLACE, "ToCountry": _PLACE,
    "ApiVersion": r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "SmsStatus": _STATUS,
    "OptOutType": r"[A-Z]{1,16}",
    **{f"MediaUrl{n}": r"https://[^\s\x00]{1,500}" for n in range(10)},
    **{f"MediaContentType{n}": r"[\w.+-]{1,64}/[\w.+-]{1,64}" for n in range(10)},
}

#: Parameters of a delivery report for a message we sent.
STATUS: dict[str, str] = {
    "MessageSid": _SID, "SmsSid": _SID, "AccountSid": r"AC[0-9a-f]{32}",
    "MessagingServiceSid": r"MG[0-9a-f]{32}", "From": _E164, "To": _E164,
    "MessageStatus": _STATUS, "SmsStatus": _STATUS, "ApiVersion": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "ErrorCode": r"[0-9]{1,6}", "ErrorMessage": r"[^\x00-\x1f\x7f]{0,300}",
    "RawDlrDoneDate": r"[0-9]{10,14}", "ChannelToAddress": r"\+?[0-9]{6,15}",
    "ChannelPrefix": r"[a-z]{1,16}", "ChannelInstallSid": r"XE[0-9a-f]{32}",
    "StructuredMessage": r"true|false",
}

#: Free text allowed for a parameter named in FOLGE_TWILIO_EXTRA_PARAMS.
_EXTRA = r"[^\x00-\x1f\x7f]{0,200}"


class WebhookRefused(ValueError):
    """The request is not one Twilio would send us; ``reason`` says why (for the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_parameters(form: MultiDict[str, str], spec: Mapping[str, str], required: tuple[str, ...],
                     account_sid: str = "", extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The request's parameters as a dict, or WebhookRefused when any breaks the rules."""
    allowed = {**spec, **{name: _EXTRA for name in extra if name not in spec}}
    values: dict[str, str] = {}
    for name in form:
        given = form.getlist(name)
        if name not in allowed:
            log.error("Twilio webhook refused: unknown parameter %r (add it to "
                      "FOLGE_TWILIO_EXTRA_PARAMS if Twilio has started to send it)", name[:40])
            raise WebhookRefused(f"unknown parameter {name[:40]!r}")
        if len(given) != 1:
            raise WebhookRefused(f"parameter {name} given {len(given)} times")
        if not re.fullmatch(allowed[name], given[0]):
            raise WebhookRefused(f"parameter {name} has the wrong format")
        values[name] = given[0]
    missing = [name for name in required if name not in values]
    if missing:
        raise WebhookRefused(f"missing {', '.join(missing)}")
    if account_sid and values.get("AccountSid", account_sid) != account_sid:
        raise WebhookRefused("another Twilio account")
    return values
