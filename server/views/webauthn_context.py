"""The WebAuthn relying party id and origins for the current request.

Configured values win. Otherwise production uses FOLGE_PUBLIC_BASE_URL (never the
Host header); development and tests use the host the browser used, so passkeys
work on http://localhost:<port>.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request

from server.links import public_base


def _origin() -> str:
    if current_app.config["FOLGE"].is_production:
        return public_base()
    return request.host_url.rstrip("/")


def rp_id() -> str:
    """Configured RP id, or the host name of the app's origin (no port)."""
    configured: str = current_app.config["FOLGE"].webauthn_rp_id
    return configured or (urlsplit(_origin()).hostname or "localhost")


def expected_origins() -> list[str]:
    """Configured origins, or the app's origin."""
    configured = list(current_app.config["FOLGE"].webauthn_origins)
    return configured or [_origin()]
