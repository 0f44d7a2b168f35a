"""A real OpenID provider for the sign-in tests: tests/oidc/provider.js (npm oidc-provider, pinned
in tests/oidc/package-lock.json) on a loopback port, configured as ID-porten and HelseID behave.

The test side makes the keys (the provider's signing key, so a test can also sign a token as
the provider would, and the clients' keys, as Følge's configuration holds them), writes the
provider's configuration and starts it. A missing Node.js or provider fails the test with what
to install; nothing is skipped.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess  # nosec B404: starts our own provider script with a fixed argument list
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from jwskate import Jwk, JwkSet
from requests_oauth2client import OAuth2Client, PrivateKeyJwt

HERE = Path(__file__).parent / "oidc"

#: Test people: a patient (Kari), one whose number no clinic has, one whose sign-in only
#: reaches a lower level than asked, and a doctor with an HPR number.
ACCOUNTS: dict[str, dict[str, str]] = {
    "kari": {"pid": "01017010170"},
    "unknown": {"pid": "15076510013"},
    "low": {"pid": "01017010170", "acr": "idporten-loa-substantial"},
    "doctor": {"pid": "13097210181", "hpr": "9144889"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningProvider:
    issuer: str
    signing_key: Jwk
    client_keys: dict[str, JwkSet]
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)

    #: Record systems (client id -> its private key), with ``fhir``.
    system_keys: dict[str, Jwk] = field(default_factory=dict)

    def system_token(self, client_id: str, scope: str, resource: str) -> str:
        """An access token for record system ``client_id``, from the provider's
        client-credentials grant with private_key_jwt (requests-oauth2client), as a record
        system gets one from HelseID."""
        client = OAuth2Client(f"{self.issuer}/token",
                              auth=PrivateKeyJwt(client_id, self.system_keys[client_id]),
                              testing=True)
        token = client.client_credentials(scope=scope, resource=resource)
        return str(token.access_token)

    def client_jwks(self, client_id: str, kids: tuple[str, ...] | None = None,
                    extra: Jwk | None = None) -> str:
        """The client's private keys as Følge's configuration holds them (JSON): all, or
        those of ``kids`` in that order (the first signs), with ``extra`` (a key the provider
        does not know) in front."""
        keys = self.client_keys[client_id]
        chosen = [keys.get_jwk_by_kid(kid) for kid in kids] if kids else list(keys.jwks)
        if extra is not None:
            chosen.insert(0, extra)
        return json.dumps(JwkSet(keys=chosen).to_dict())


def _client(client_id: str, keys: JwkSet, app_url: str, dpop: bool) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": keys.public_jwks().to_dict(),
        "redirect_uris": [f"{app_url}/sign-in/oidc/callback"],
        "post_logout_redirect_uris": [f"{app_url}/signed-out"],
        "backchannel_logout_uri": f"{app_url}/sign-in/oidc/backchannel-logout",
        "backchannel_logout_session_required": True,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "scope": "openid helseid://scopes/identity/hpr_number",
        "dpop_bound_access_tokens": dpop,
    }


def _system_client(client_id: str, key: Jwk, scopes: list[str]) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.public_jwk().to_dict()]},
        "grant_types": ["client_credentials"],
        "response_types": [],
        "redirect_uris": [],
        "scope": " ".join(scopes),
    }


@contextmanager
def openid_provider(tmp_path: Path, app_url: str = "http://localhost",
                    ttl: dict[str, int] | None = None,
                    fhir: dict[str, Any] | None = None) -> Iterator[RunningProvider]:
    """Start the provider; stop it when the block ends.

    ``fhir``: {"resource": Følge's FHIR base URL, "scopes": [...], "clients": {client id:
    [its scopes]}} makes it issue record systems' access tokens too."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("The test OpenID provider is missing: install Node.js (apt-get install "
                    "nodejs npm) and run `npm ci` in tests/oidc (scripts/test.sh does both).")
    issuer = f"http://127.0.0.1:{free_port()}"
    signing = Jwk.generate(alg="RS256", kid="provider-1")
    # Two registered keys for ID-porten's client: the one in use and the one rotated in.
    keys = {"folge-idporten": JwkSet(keys=[Jwk.generate(alg="ES256", kid="folge-2026-1"),
                                           Jwk.generate(alg="ES256", kid="folge-2026-2")]),
            "folge-helseid": JwkSet(keys=[Jwk.generate(alg="ES256", kid="folge-staff-1")])}
    config = {
        "issuer": issuer,
        "jwks": {"keys": [signing.to_dict()]},
        "clients": [_client("folge-idporten", keys["folge-idporten"], app_url, dpop=False),
                    _client("folge-helseid", keys["folge-helseid"], app_url, dpop=True)],
        "accounts": ACCOUNTS,
        "ttl": ttl or {},
    }
    system_keys: dict[str, Jwk] = {}
    if fhir is not None:
        config["fhir"] = {"resource": fhir["resource"], "scopes": fhir["scopes"],
                          "ttl": fhir.get("ttl", 300)}
        for client_id, scopes in fhir["clients"].items():
            system_keys[client_id] = Jwk.generate(alg="ES256", kid=f"{client_id}-1")
            config["clients"].append(_system_client(client_id, system_keys[client_id], scopes))
    path = tmp_path / "oidc-provider.json"
    path.write_text(json.dumps(config))
    errors_path = tmp_path / "oidc-provider.log"
    errors_file = errors_path.open("w")
    process = subprocess.Popen([node, str(HERE / "provider.js"), str(path)],  # nosec B603
                               stdout=subprocess.PIPE, stderr=errors_file, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("READY") or process.poll() is not None:
                break
        if not line.startswith("READY"):
            errors_file.flush()
            pytest.fail(f"The test OpenID provider did not start: {errors_path.read_text()}")
        yield RunningProvider(issuer, signing, keys, ACCOUNTS, system_keys)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        errors_file.close()
