"""Who is calling the FHIR interface: a record system with an access token.

The token comes from the configured issuer (HelseID in production; the test OpenID provider
in the suite) by the client-credentials grant with private_key_jwt: the record system proves
itself to the issuer, not to Følge. Følge checks the token itself (RFC 9068, a JWT access
token): signed by a key of the issuer, of type at+jwt, for this audience, not expired, and
for a client id registered here (server/fhir/models.py). Scopes are SMART on FHIR v2 system
scopes ("system/Appointment.cru"); a call needs a scope of the token and one of the
registration that allow it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from flask import current_app, g, request
from jwskate import InvalidJwt, InvalidSignature, Jwk, JwkSet, Jwt, SignedJwt
from sqlalchemy import select

from server.extensions import db
from server.fhir.models import SystemClient

#: Signature algorithms a token may use (never "none", never a shared secret).
ALGORITHMS = ("RS256", "PS256", "ES256")
#: How long the issuer's keys are kept, and how soon an unknown key id may refetch them.
KEYS_TTL = 3600.0
KEYS_RETRY = 30.0
#: Clock difference between the issuer and Følge that is forgiven (seconds).
LEEWAY = 30

_keys: dict[str, tuple[float, JwkSet]] = {}
_keys_lock = threading.Lock()


class FhirProblem(Exception):
    """A request the interface refuses; becomes an OperationOutcome with ``status``."""

    def __init__(self, status: int, code: str, diagnostics: str,
                 expression: list[str] | None = None, headers: dict[str, str] | None = None,
                 ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression or []
        self.headers = headers or {}


def _unauthorized(why: str, error: str = "invalid_token") -> FhirProblem:
    return FhirProblem(401, "login", why, headers={
        "WWW-Authenticate": f'Bearer realm="folge-fhir", error="{error}"'})


@dataclass(frozen=True)
class SystemAccess:
    """A checked token: the record system and what it may do."""

    client: SystemClient
    #: The token's scopes, and those of the registration: both must allow a call.
    scopes: frozenset[str]
    registered: frozenset[str]

    def may(self, resource: str, interaction: str) -> bool:
        """May it do ``interaction`` (c, r, u, d or s) on ``resource``?"""
        return any(grants(scope, resource, interaction) for scope in self.scopes) and \
            any(grants(scope, resource, interaction) for scope in self.registered)


_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


def grants(scope: str, resource: str, interaction: str) -> bool:
    """Does a SMART system scope grant ``interaction`` on ``resource``? v2 letters (cruds,
    in that order) and the v1 words read, write and * are both understood."""
    context, _, rest = scope.partition("/")
    if context != "system" or "." not in rest:
        return False
    kind, _, verbs = rest.partition(".")
    if kind not in (resource, "*"):
        return False
    letters = _V1.get(verbs, verbs)
    if not letters or any(ch not in "cruds" for ch in letters) or \
            "".join(sorted(letters, key="cruds".index)) != letters:
        return False
    return interaction in letters


def _fetch_keys(issuer: str) -> JwkSet:
    http = requests.Session()
    discovery = http.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    discovery.raise_for_status()
    found = http.get(discovery.json()["jwks_uri"], timeout=10)
    found.raise_for_status()
    return JwkSet(found.json())


def _key(issuer: str, kid: str | None) -> Jwk | None:
    """The issuer's key ``kid``: from the cache, refetched when it expired or when the kid is
    new (the issuer rotated its keys), at most every KEYS_RETRY seconds."""
    with _keys_lock:
        cached = _keys.get(issuer)
        now = time.monotonic()
        keys = cached[1] if cached else None
        if keys is not None and kid is not None and kid not in {k.kid for k in keys.jwks}:
            if now - cached[0] > KEYS_RETRY:  # type: ignore[index]
                keys = None
        if keys is None or now - cached[0] > KEYS_TTL:  # type: ignore[index]
            try:
                keys = _fetch_keys(issuer)
            except (requests.RequestException, ValueError, KeyError) as exc:
                current_app.logger.warning("FHIR: the token issuer's keys: %s", exc)
                if keys is None:
                    return None
            else:
                _keys[issuer] = (now, keys)
    if kid is None:
        return keys.jwks[0] if len(keys.jwks) == 1 else None
    try:
        return keys.get_jwk_by_kid(kid)
    except KeyError:
        return None


def forget_keys() -> None:
    """Drop the cached keys (a test's provider restarted)."""
    with _keys_lock:
        _keys.clear()


def _audiences(aud: object) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    return [str(a) for a in aud] if isinstance(aud, list) else []


def authenticate() -> SystemAccess:
    """Check the request's bearer token; the result is kept on ``g`` for the request."""
    config = current_app.config["FOLGE"]
    if not config.fhir_issuer or not config.fhir_audience:
        raise _unauthorized("The FHIR interface is not set up on this server: no token issuer "
                            "is configured (FOLGE_FHIR_ISSUER).")
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise _unauthorized("An access token is needed: Authorization: Bearer <token>, from "
                            "the client-credentials grant at the configured issuer.",
                            "invalid_request")
    try:
        jwt = Jwt(token.strip())
    except (InvalidJwt, ValueError):
        raise _unauthorized("The access token is not a JWT.") from None
    if not isinstance(jwt, SignedJwt) or jwt.alg not in ALGORITHMS:
        raise _unauthorized("The access token is not signed with an accepted algorithm.")
    if str(jwt.typ or "").lower() not in ("at+jwt", "application/at+jwt"):
        raise _unauthorized("The token is not an access token (typ at+jwt).")
    key = _key(config.fhir_issuer, jwt.kid)
    try:
        valid = key is not None and jwt.verify_signature(key, alg=jwt.alg)
    except (InvalidSignature, ValueError):
        valid = False
    if not valid:
        raise _unauthorized("The access token's signature is not the issuer's.")
    claims = jwt.claims
    now = time.time()
    if claims.get("iss") != config.fhir_issuer:
        raise _unauthorized("The access token is from another issuer.")
    if config.fhir_audience not in _audiences(claims.get("aud")):
        raise _unauthorized("The access token is not for this FHIR server (aud).")
    try:
        expires = float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        raise _unauthorized("The access token has no expiry.") from None
    if expires + LEEWAY < now:
        raise _unauthorized("The access token has expired.")
    client_id = claims.get("client_id")
    client = db.session.scalar(select(SystemClient).where(
        SystemClient.client_id == str(client_id))) if isinstance(client_id, str) else None
    if client is None or client.disabled_at is not None:
        raise FhirProblem(403, "forbidden", "This record system is not registered with Følge, "
                                            "or its registration has ended.")
    scope = claims.get("scope")
    asked = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
    access = SystemAccess(client, asked, frozenset(client.scopes.split()))
    g.fhir_access = access
    return access


def current() -> SystemAccess:
    """The record system of this request (authenticated by the policy before the view)."""
    access: SystemAccess | None = g.get("fhir_access")
    if access is None:  # only reachable if a view ran without the policy: refuse
        raise _unauthorized("No access token was checked for this request.")
    return access


def require(resource: str, interaction: str) -> SystemAccess:
    """The caller, if its scopes allow ``interaction`` on ``resource``; 403 otherwise."""
    access = current()
    if not access.may(resource, interaction):
        letters = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}
        raise FhirProblem(403, "forbidden",
                          f"The token's scopes do not allow {letters[interaction]} on "
                          f"{resource} (for example system/{resource}.{interaction}).",
                          headers={"WWW-Authenticate": 'Bearer realm="folge-fhir", '
                                   'error="insufficient_scope"'})
    return access
