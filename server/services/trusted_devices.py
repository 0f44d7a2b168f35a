"""Devices a staff member has signed in on before: the OWASP "device cookie".

After a full sign-in (password and second factor) the browser gets a signed
cookie naming the account. The per-account limit on wrong passwords, which a
stranger anywhere could otherwise use to lock a staff member out, does not
apply to a browser that carries a valid device cookie for that account; such
a browser has its own limit instead (server/views/auth.py). The cookie proves
nothing by itself: the password and the code are still needed.
"""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

#: How long a device stays known without a new sign-in on it.
MAX_AGE_DAYS = 180
_SALT = "folge-staff-device"


def cookie_name() -> str:
    """``__Host-`` in production: secure, host-only, path /."""
    return "__Host-folge_device" if current_app.config["FOLGE"].is_production else "folge_device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def issue(user_id: int) -> str:
    """A new device token for ``user_id`` (the cookie's value)."""
    return _serializer().dumps({"u": user_id, "d": secrets.token_urlsafe(12)})


def read(token: str | None) -> tuple[int, str] | None:
    """(account id, device id) from a valid, unexpired token; None otherwise."""
    if not token or len(token) > 500:
        return None
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or \
            not isinstance(data.get("d"), str):
        return None
    return data["u"], data["d"]
