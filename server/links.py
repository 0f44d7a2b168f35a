"""Links that leave the app: in an SMS, an email, a letter, a push message or a callback
we give a provider.

Each is built on ``FOLGE_PUBLIC_BASE_URL``, never on the request's Host or
X-Forwarded-Host header, so nobody can make Følge send a link to another
domain (required in production; development uses the demo's own address).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

#: The base when a configuration was built without one (tests that construct Config).
_FALLBACK = "http://localhost"


def public_base() -> str:
    """The app's public URL without a trailing slash."""
    return str(current_app.config["FOLGE"].public_base_url or _FALLBACK).rstrip("/")


def public_host() -> str:
    """The host name of the public URL, without a port (for the WebOTP line of a code)."""
    return urlsplit(public_base()).hostname or "localhost"


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute public URL of ``endpoint``, also outside a request (the worker)."""
    path = current_app.url_map.bind("folge.invalid").build(endpoint, values)
    return public_base() + path
