"""OpenID Connect sign-in with ID-porten, as its integration guide asks, through
requests-oauth2client (no hand-written JWT or PKCE):

- the authorization request is pushed (PAR) and the browser is sent with its request_uri only;
- PKCE with S256, and a fresh ``state`` and ``nonce`` for each sign-in;
- the client authenticates with ``private_key_jwt``, signed with the first key of
  FOLGE_IDPORTEN_JWKS (its ``kid`` in the header; keeping the previous key registered at
  ID-porten while the new one is first is how a key is rotated);
- ``acr_values`` is the level the configuration asks for, and the returned ``acr`` is checked
  here: a lower level is refused; a higher one is welcome.

A sign-in under way is an ``OidcAttempt`` (the sealed request, with its verifier and nonce),
found by its ``state``, which must also be the one this browser's session started; it is used
once and lasts ten minutes.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app, session, url_for
from jwskate import InvalidJwt, InvalidSignature, Jwk, JwkSet, Jwt, SignedJwt
from requests_oauth2client import (
    AuthorizationRequest,
    AuthorizationRequestSerializer,
    AuthorizationResponse,
    BearerToken,
    OAuth2Client,
    PrivateKeyJwt,
)
from requests_oauth2client.exceptions import OAuth2Error
from requests_oauth2client.tokens import InvalidIdToken, MismatchingIdTokenAcr
from sqlalchemy import select

from server.config import IDPORTEN_LEVELS, OidcSettings
from server.extensions import db
from server.models.base import utcnow
from server.national_id.models import OidcAttempt

#: How long a started sign-in may take.
ATTEMPT_TTL = timedelta(minutes=10)
#: The browser session key that holds the state of the sign-in this browser started.
STATE_KEY = "oidc_state"
#: Discovery documents and keys are fetched again after this many seconds.
DISCOVERY_TTL = 3600
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"

_clients: dict[tuple[str, str, str], tuple[float, OAuth2Client]] = {}
_serializer = AuthorizationRequestSerializer()


class _TimeoutSession(requests.Session):
    """Every call to the provider gives up after 10 seconds (requests has no default)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 10)
        return super().request(*args, **kwargs)


class SignInProblem(Exception):
    """The sign-in did not go through; ``kind`` says which page to show: expired, cancelled,
    failed or low_level."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class SignedIn:
    """What a successful sign-in tells: the national identity number, the level, ID-porten's
    session id and the ID token (for signing out of ID-porten too)."""

    pid: str
    acr: str
    sid: str | None
    id_token: str
    next_path: str
    purpose: str = "sign_in"
    provider: str = "idporten"
    #: HelseID: the health personnel number (HPR), for staff.
    hpr: str | None = None


#: The providers: ID-porten for patients and relatives, HelseID for staff.
PROVIDERS = ("idporten", "helseid")
#: HelseID's claims (ID-porten calls the number just "pid").
HELSEID_PID = "helseid://claims/identity/pid"
HELSEID_HPR = "helseid://claims/hpr/hpr_number"
HELSEID_SCOPE = "openid helseid://scopes/identity/hpr_number"


def settings(provider: str = "idporten") -> OidcSettings | None:
    return getattr(current_app.config["FOLGE"], provider, None)  # type: ignore[no-any-return]


def _loopback(issuer: str) -> bool:
    return urlsplit(issuer).hostname in ("127.0.0.1", "localhost", "::1")


def redirect_uri() -> str:
    """The callback address registered with ID-porten (from FOLGE_PUBLIC_BASE_URL if set)."""
    base = current_app.config["FOLGE"].public_base_url
    path = url_for("national_id.callback")
    return f"{base.rstrip('/')}{path}" if base else url_for("national_id.callback",
                                                             _external=True)


def client(config: OidcSettings, dpop: bool = False) -> OAuth2Client:
    """The client for ``config``: its endpoints and keys from the provider's discovery
    document (cached for an hour), authenticating with private_key_jwt; with ``dpop`` its
    tokens are DPoP-bound (HelseID)."""
    uri = redirect_uri()
    key = (config.issuer, config.client_id, uri + ("#dpop" if dpop else ""))
    cached = _clients.get(key)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    signing = JwkSet(json.loads(config.jwks)).jwks[0]
    http = _TimeoutSession()
    discovery = http.get(f"{config.issuer}/.well-known/openid-configuration")
    discovery.raise_for_status()
    document = discovery.json()
    keys = http.get(document["jwks_uri"])
    keys.raise_for_status()
    found = OAuth2Client.from_discovery_document(
        document,
        issuer=config.issuer,
        auth=PrivateKeyJwt(config.client_id, signing, aud=config.issuer),
        redirect_uri=uri,
        session=http,
        authorization_server_jwks=JwkSet(keys.json()),
        # Plain http is accepted only for a provider on this machine (the tests).
        testing=_loopback(config.issuer),
        end_session_endpoint=document.get("end_session_endpoint"),
        dpop_bound_access_tokens=dpop,
    )
    _clients[key] = (time.monotonic(), found)
    return found


def forget_clients() -> None:
    """Drop cached discovery (a test's provider restarted, or keys rotated)."""
    _clients.clear()


def _acceptable(required: str) -> tuple[str, ...]:
    """The levels at or above ``required``."""
    return IDPORTEN_LEVELS[IDPORTEN_LEVELS.index(required):]


def start(config: OidcSettings, next_path: str = "", purpose: str = "sign_in",
          login_hint: str | None = None, provider: str = "idporten",
          acr: str | None = None) -> str:
    """Push the authorization request and return where to send the browser; ``acr`` asks for
    a higher level than the configured one (a step-up). Commits."""
    helseid = provider == "helseid"
    oauth = client(config, dpop=helseid)
    extra: dict[str, Any] = {"login_hint": login_hint} if login_hint else {}
    if acr or config.acr:
        extra["acr_values"] = acr or config.acr
    if purpose == "step_up":
        extra["prompt"] = "login"  # a fresh sign-in at the level asked for, not the old one
    request = oauth.authorization_request(scope=HELSEID_SCOPE if helseid else "openid",
                                          state=secrets.token_urlsafe(32), **extra)
    pushed = oauth.pushed_authorization_request(request)
    db.session.add(OidcAttempt(state=request.state, provider=provider, purpose=purpose,
                               request=_serializer.dumps(request).decode("ascii"),
                               next_path=next_path))
    db.session.commit()
    session[STATE_KEY] = request.state
    return str(pushed.uri)


def _attempt(state: str | None) -> OidcAttempt:
    """The attempt this callback belongs to, once: refused when unknown, from another
    browser, used already or too old."""
    if not state or session.pop(STATE_KEY, None) != state:
        raise SignInProblem("expired", "state does not match this browser's sign-in")
    attempt = db.session.scalar(select(OidcAttempt).where(OidcAttempt.state == state))
    if attempt is None or attempt.used_at is not None or \
            attempt.created_at < utcnow() - ATTEMPT_TTL:
        raise SignInProblem("expired", "unknown, used or old attempt")
    attempt.used_at = utcnow()
    db.session.commit()
    return attempt


def finish(callback_url: str, state: str | None) -> SignedIn:
    """Check the callback and the tokens; SignInProblem says what went wrong."""
    attempt = _attempt(state)
    config = settings(attempt.provider) if attempt.provider in PROVIDERS else None
    if config is None:
        raise SignInProblem("expired", f"provider {attempt.provider} is not configured")
    helseid = attempt.provider == "helseid"
    request: AuthorizationRequest = _serializer.loads(attempt.request.encode("ascii"))
    oauth = client(config, dpop=helseid)
    try:
        response = request.validate_callback(callback_url)
    except OAuth2Error as exc:
        kind = "cancelled" if getattr(exc, "error", "") == "access_denied" else "failed"
        raise SignInProblem(kind, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any malformed callback is one clear page
        raise SignInProblem("failed", str(exc)) from None
    # Accept the level asked for (a step-up asks for more than the configured one) or a
    # higher one; requests-oauth2client checks the acr against this list, and so do we below.
    required = request.acr_values[0] if request.acr_values else config.acr
    checked = AuthorizationResponse(
        code=response.code, redirect_uri=response.redirect_uri,
        code_verifier=response.code_verifier, state=response.state, nonce=response.nonce,
        acr_values=_acceptable(required) if required else None,
        issuer=response.issuer or config.issuer, dpop_key=response.dpop_key)
    try:
        token = oauth.authorization_code(checked, validate=not helseid)
        if helseid:
            # requests-oauth2client 1.8 rebuilds a DPoPToken without its key when it validates
            # the ID token; the same checks on a plain copy, and the DPoP token kept for use.
            BearerToken(access_token=token.access_token, id_token=token.id_token,
                        expires_at=token.expires_at).validate_id_token(oauth, checked)
    except MismatchingIdTokenAcr as exc:
        raise SignInProblem("low_level", str(exc)) from None
    except (OAuth2Error, InvalidIdToken, InvalidSignature, InvalidJwt,
            requests.RequestException) as exc:
        raise SignInProblem("failed", f"{type(exc).__name__}: {exc}") from None
    claims = dict(token.id_token.claims) if token.id_token is not None else {}
    acr = str(claims.get("acr", ""))
    if required and acr not in _acceptable(required):
        raise SignInProblem("low_level", acr)
    if helseid:
        if token.token_type.lower() != "dpop":
            raise SignInProblem("failed", "HelseID gave a token that is not DPoP-bound")
        try:  # the HPR number and the identity, also from userinfo with the DPoP-bound token
            claims = {**oauth.userinfo(token), **claims}
        except (OAuth2Error, requests.RequestException, ValueError):
            pass  # the ID token's claims are enough
    pid = str(claims.get("pid") or claims.get(HELSEID_PID) or "")
    if not pid:
        raise SignInProblem("failed", "no pid claim")
    hpr = claims.get(HELSEID_HPR)
    return SignedIn(pid=pid, acr=acr, sid=claims.get("sid"), id_token=str(token.id_token),
                    next_path=attempt.next_path, purpose=attempt.purpose,
                    provider=attempt.provider, hpr=str(hpr) if hpr else None)


def end_session_url(config: OidcSettings, id_token: str, after: str,
                    dpop: bool = False) -> str | None:
    """Where to send the browser so the provider ends its session too (RP-initiated logout)."""
    oauth = client(config, dpop=dpop)
    endpoint = oauth.extra_metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    from urllib.parse import urlencode

    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": after,
                       "state": secrets.token_urlsafe(16)})
    return f"{endpoint}?{query}"


def logout_sid(config: OidcSettings, logout_token: str) -> str:
    """The ID-porten session id a back-channel logout token ends, after checking it: signed by
    the provider, for this client, a logout event, recent, with a sid and no nonce."""
    oauth = client(config)
    try:
        jwt = Jwt(logout_token)
    except Exception as exc:  # noqa: BLE001
        raise SignInProblem("failed", f"not a JWT: {exc}") from None
    if not isinstance(jwt, SignedJwt):
        raise SignInProblem("failed", "not signed")
    keys = oauth.authorization_server_jwks
    try:
        key: Jwk = keys.get_jwk_by_kid(jwt.kid) if jwt.kid else keys.jwks[0]
        valid = jwt.verify_signature(key, alg=jwt.alg)
    except (KeyError, InvalidSignature, ValueError):
        valid = False
    claims = jwt.claims
    now = time.time()
    if not valid or claims.get("iss") != config.issuer or \
            config.client_id not in _audiences(claims.get("aud")) or \
            BACKCHANNEL_EVENT not in (claims.get("events") or {}) or "nonce" in claims or \
            not claims.get("sid") or abs(now - float(claims.get("iat", 0))) > 300:
        raise SignInProblem("failed", "logout token refused")
    return str(claims["sid"])


def _audiences(aud: object) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    return [str(a) for a in aud] if isinstance(aud, list) else []
