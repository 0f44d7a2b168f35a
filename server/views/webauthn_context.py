"""The WebAuthn relying party id and origins for the current request."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


def rp_id() -> str:
    """Configured RP id, or the host name the browser used (no port)."""
    configured: str = current_app.config["FOLGE"].webauthn_rp_id
    return configured or (urlsplit(request.host_url).hostname or "localhost")


def expected_origins() -> list[str]:
    """Configured origins, or the origin of the current request."""
    configured = list(current_app.config["FOLGE"].webauthn_origins)
    return configured or [request.host_url.rstrip("/")]
