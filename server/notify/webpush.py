"""Web push transport (RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID).

``send()`` encrypts one JSON payload for one phone and hands it to that
phone's push service; the service worker decrypts it on the phone. Only the
push service sees the endpoint, and it cannot read the payload.

Key format. ``FOLGE_VAPID_PRIVATE_KEY`` is the raw 32-byte P-256 private
scalar, base64url without padding (43 characters, one line, fits an
environment variable). That is the form pywebpush / py_vapid read directly
(``Vapid.from_string``); a PEM key is accepted too. ``FOLGE_VAPID_PUBLIC_KEY``
is the uncompressed public point (65 bytes, starts with 0x04) in base64url:
the ``applicationServerKey`` a browser needs for ``pushManager.subscribe()``.
``generate_vapid_keys()`` makes a matching pair.

Errors share the channel hierarchy of ``server.notify.errors``: a subscription
the push service no longer knows raises ``SubscriptionGone`` (the caller
should deactivate it); anything worth retrying raises ``TemporaryPushError``
(with ``retry_after`` when the service said how long to wait). Updating the
subscription row (``active``, ``last_success_at``) is left to the caller:
this module is only the transport.
"""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from http_ece import ECEException
from py_vapid import Vapid02, VapidException
from pywebpush import WebPushException, webpush

from server.config import Config
from server.models import PushSubscription
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError
from server.notify.push_endpoints import (
    BlockedAddress,
    check_resolves_publicly,
    endpoint_allowed,
    public_only_session,
)
from server.numbers import whole_number

#: Largest plaintext that fits one aes128gcm record of 4096 bytes (RFC 8291, section 4).
#: Push services reject bigger messages with 413, so we refuse them before sending.
MAX_PAYLOAD_BYTES = 3993

#: RFC 8030 section 5.4: a Topic is at most 32 characters of the URL-safe base64 alphabet.
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")

#: Statuses worth retrying: request timeout, rate limited, and every 5xx.
_RETRY_STATUSES = frozenset({408, 429})


class SubscriptionGone(PermanentDeliveryError):
    """The push service answered 404 or 410: the subscription expired or was revoked."""


class TemporaryPushError(TemporaryDeliveryError):
    """Try again later; ``retry_after`` is the push service's wait in seconds, if it gave one."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _public_key_b64(private_key: ec.EllipticCurvePrivateKey) -> str:
    return _b64url(private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def generate_vapid_keys() -> tuple[str, str]:
    """A new VAPID key pair: (private key, public key), both base64url without padding.

    The private key is the raw 32-byte scalar (what ``pywebpush.webpush(vapid_private_key=...)``
    accepts as a string); the public key is the uncompressed point browsers take as
    ``applicationServerKey``.
    """
    private_key = ec.generate_private_key(ec.SECP256R1())
    raw = private_key.private_numbers().private_value.to_bytes(32, "big")
    return _b64url(raw), _public_key_b64(private_key)


def _vapid(config: Config) -> Vapid02:
    """The signing key from the configuration, checked so a misconfiguration reads clearly."""
    key = config.vapid_private_key.strip()
    if not key:
        raise PermanentDeliveryError(
            "Web push is not configured: FOLGE_VAPID_PRIVATE_KEY is empty "
            "(generate a key pair with server.notify.webpush.generate_vapid_keys())")
    if not config.vapid_subject:
        raise PermanentDeliveryError("Web push is not configured: FOLGE_VAPID_SUBJECT is empty")
    try:
        if key.startswith("-----BEGIN"):
            vapid = Vapid02.from_pem(key.encode())
        else:
            vapid = Vapid02.from_string(key)
    except (ValueError, TypeError, VapidException) as exc:
        raise PermanentDeliveryError(
            "FOLGE_VAPID_PRIVATE_KEY is not a P-256 private key "
            "(expected 32 bytes base64url, or PEM)") from exc
    if config.vapid_public_key and config.vapid_public_key.strip().rstrip("=") != _public_key_b64(
            vapid.private_key):
        # Browsers subscribed with the configured public key; signing with another key fails
        # at the push service with a 403 that is much harder to read than this.
        raise PermanentDeliveryError(
            "FOLGE_VAPID_PUBLIC_KEY does not belong to FOLGE_VAPID_PRIVATE_KEY")
    return vapid


def _retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    seconds = whole_number(value, 0, 7 * 86400)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _error_for(response: requests.Response) -> Exception:
    """Map a push service's refusal onto the delivery error hierarchy."""
    status = response.status_code
    message = f"push service answered {status} {response.reason or ''}".strip()
    if status in (404, 410):
        return SubscriptionGone(message)
    if status in _RETRY_STATUSES or status >= 500:
        return TemporaryPushError(message, _retry_after(response.headers.get("Retry-After")))
    # 400 malformed, 401/403 VAPID rejected, 413 payload too large, and anything else.
    return PermanentDeliveryError(message)


def send(subscription: PushSubscription, payload: dict[str, Any], *, ttl: int | None = None,
         timeout: float | None = None, topic: str | None = None) -> str:
    """Encrypt ``payload`` (as JSON) for ``subscription`` and post it to its push service.

    ``ttl`` is how long the push service keeps the message for a phone that is offline
    (default and also for 0: ``push_ttl_seconds``; pywebpush's own default of 0 drops the
    message at once when the phone is not reachable). ``timeout`` bounds the HTTP request
    (default ``push_timeout_seconds``; pywebpush would otherwise wait without limit).
    A ``topic`` makes the service replace an undelivered message with the same topic.

    Returns an id for the record: the message's Location from the push service, or else
    the HTTP status as text. Raises ``SubscriptionGone``, ``PermanentDeliveryError`` or
    ``TemporaryPushError``; ``ValueError`` for a malformed topic (a programming error).
    """
    config: Config = current_app.config["FOLGE"]
    vapid = _vapid(config)
    headers: dict[str, str | int | float] = {"Urgency": "normal"}
    if topic is not None:
        if not _TOPIC.fullmatch(topic):
            raise ValueError("a push topic is 1-32 characters of A-Z, a-z, 0-9, '-' and '_'")
        headers["Topic"] = topic
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    allow_loopback = config.push_allow_loopback
    if not endpoint_allowed(subscription.endpoint, config.push_hosts, allow_loopback):
        raise PermanentDeliveryError("push endpoint is not on an allowed push service")
    size = len(data.encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PermanentDeliveryError(f"push payload is {size} bytes; at most {MAX_PAYLOAD_BYTES} fit")
    try:
        check_resolves_publicly(subscription.endpoint, allow_loopback)
        response = webpush(
            subscription_info={"endpoint": subscription.endpoint,
                               "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}},
            data=data,
            vapid_private_key=vapid,
            vapid_claims={"sub": config.vapid_subject},  # a fresh dict: pywebpush adds aud and exp
            content_encoding="aes128gcm",
            ttl=ttl or config.push_ttl_seconds,
            timeout=timeout or config.push_timeout_seconds,
            headers=headers,
            requests_session=public_only_session(allow_loopback),
        )
    except WebPushException as exc:
        if exc.response is not None:
            raise _error_for(exc.response) from exc
        raise PermanentDeliveryError(f"push subscription is unusable: {exc.message}") from exc
    except BlockedAddress as exc:
        raise PermanentDeliveryError(f"push endpoint refused: {exc}") from exc
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise PermanentDeliveryError(f"push endpoint is not a usable URL: {exc}") from exc
    except requests.RequestException as exc:
        # Connection refused or reset, DNS failure, TLS error, timeout: the network, not us.
        raise TemporaryPushError(f"push service unreachable: {type(exc).__name__}") from exc
    except VapidException as exc:
        # py_vapid refuses a subject that is not mailto:/https:, or an endpoint without a host.
        raise PermanentDeliveryError(f"VAPID signing refused: {exc}") from exc
    except (ValueError, ECEException) as exc:
        # p256dh or auth are not valid keys (pywebpush's own check lets some through).
        raise PermanentDeliveryError("push subscription keys are invalid") from exc
    response = cast(requests.Response, response)  # webpush returns text only with curl=True
    return response.headers.get("Location") or str(response.status_code)
