"""Web push transport against a local stand-in for a push service.

The receiver decrypts what arrives with ``http_ece`` and the "browser's" own key,
and checks the VAPID token with ``cryptography``: both independent of the code
that encrypts and signs. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask

from server.extensions import db
from server.models import PushSubscription
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError
from server.notify.webpush import SubscriptionGone, generate_vapid_keys, send

TTL = 3600
PAYLOAD = {"title": "Følge", "body": "Du har en avtale i morgen kl. 10:00."}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(scope="module")
def vapid_keys() -> tuple[str, str]:
    return generate_vapid_keys()


@pytest.fixture
def config_overrides(vapid_keys: tuple[str, str]) -> dict[str, Any]:
    private, public = vapid_keys
    # The stand-in push service listens on loopback, which only tests may allow.
    return {"vapid_private_key": private, "vapid_public_key": public,
            "vapid_subject": "mailto:drift@folge.invalid", "push_ttl_seconds": TTL,
            "push_timeout_seconds": 5, "push_allow_loopback": True}


# -- the stand-in push service -------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """Records every POST; answers ``status`` with ``headers`` after ``delay`` seconds."""

    port: int = 0
    status: int = 201
    headers: dict[str, str] = field(default_factory=lambda: {"Location": "/message/m-1"})
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/push/abc"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            service.received.append(Received(self.path, dict(self.headers.items()), body))
            if service.delay:
                service.release.wait(service.delay)
            try:
                self.send_response(service.status)
                for name, value in service.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the client gave up (timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    service.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield service
    service.release.set()
    server.shutdown()
    server.server_close()


# -- the "browser" side --------------------------------------------------------

@dataclass
class Browser:
    key: ec.EllipticCurvePrivateKey
    auth: bytes
    subscription: PushSubscription


def subscribe(endpoint: str, user_id: int) -> Browser:
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    p256dh = key.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    subscription = PushSubscription(user_id=user_id, endpoint=endpoint, p256dh=b64url(p256dh),
                                    auth=b64url(auth), label="Test phone")
    db.session.add(subscription)
    db.session.commit()
    return Browser(key, auth, subscription)


@pytest.fixture
def browser(make: Any, push_service: PushService) -> Browser:
    patient = make.patient(make.clinic())
    return subscribe(push_service.endpoint, patient.user_id)


def decrypt_rfc8291(body: bytes, browser: Browser) -> bytes:
    """RFC 8291 section 3.4 / RFC 8188 written out with cryptography's primitives: a second,
    independent decrypter (pywebpush encrypts with http_ece, so http_ece alone is not)."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    sender = body[21:21 + idlen]
    record = body[21 + idlen:]
    assert idlen == 65 and len(record) <= rs  # one record, sender key in the header
    ua_public = browser.key.public_key().public_bytes(serialization.Encoding.X962,
                                                      serialization.PublicFormat.UncompressedPoint)
    shared = browser.key.exchange(
        ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender))
    ikm = HKDF(hashes.SHA256(), 32, browser.auth, b"WebPush: info\0" + ua_public + sender).derive(shared)
    cek = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\0").derive(ikm)
    nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\0").derive(ikm)
    padded = AESGCM(cek).decrypt(nonce, record, None)
    unpadded = padded.rstrip(b"\0")
    assert unpadded[-1:] == b"\x02"  # delimiter of the last (and only) record
    return unpadded[:-1]


def verify_vapid(authorization: str, expected_public: str) -> dict[str, Any]:
    """Check an RFC 8292 ``vapid t=<JWT>,k=<key>`` header with cryptography; return the claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(item.split("=", 1) for item in params.split(","))
    assert parts["k"] == expected_public
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    assert json.loads(unb64url(header_b64))["alg"] == "ES256"
    signature = unb64url(signature_b64)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    return json.loads(unb64url(claims_b64))  # type: ignore[no-any-return]


# -- tests -------------------------------------------------------------------------

def test_payload_arrives_encrypted_and_decrypts_with_the_browser_key(
        browser: Browser, push_service: PushService, vapid_keys: tuple[str, str]) -> None:
    record_id = send(browser.subscription, PAYLOAD)

    assert record_id == "/message/m-1"
    [request] = push_service.received
    assert request.path == "/push/abc"
    assert PAYLOAD["body"].encode() not in request.body  # encrypted on the wire
    plain = http_ece.decrypt(request.body, private_key=browser.key, auth_secret=browser.auth,
                             version="aes128gcm")
    assert json.loads(plain) == PAYLOAD
    assert decrypt_rfc8291(request.body, browser) == plain

    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["ttl"] == str(TTL) != "0"
    assert headers["urgency"] == "normal"
    assert "topic" not in headers
    assert headers["authorization"].startswith("vapid t=")
    claims = verify_vapid(headers["authorization"], vapid_keys[1])
    assert claims["aud"] == f"http://127.0.0.1:{push_service.port}"
    assert claims["sub"] == "mailto:drift@folge.invalid"
    assert claims["exp"] > time.time()


def test_ttl_topic_and_status_as_id(browser: Browser, push_service: PushService) -> None:
    push_service.headers = {}
    assert send(browser.subscription, PAYLOAD, ttl=60, topic="appt-42_reminder") == "201"
    headers = {name.lower(): value for name, value in push_service.received[0].headers.items()}
    assert headers["ttl"] == "60"
    assert headers["topic"] == "appt-42_reminder"

    for bad in ("x" * 33, "has space", "æøå", ""):
        with pytest.raises(ValueError):
            send(browser.subscription, PAYLOAD, topic=bad)
    assert len(push_service.received) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscription(browser: Browser, push_service: PushService, status: int) -> None:
    push_service.status = status
    with pytest.raises(SubscriptionGone):
        send(browser.subscription, PAYLOAD)


@pytest.mark.parametrize("status", [400, 403, 413])
def test_permanent_refusals(browser: Browser, push_service: PushService, status: int) -> None:
    push_service.status = status
    with pytest.raises(PermanentDeliveryError) as caught:
        send(browser.subscription, PAYLOAD)
    assert not isinstance(caught.value, SubscriptionGone)
    assert str(status) in str(caught.value)


def test_rate_limited_carries_retry_after(browser: Browser, push_service: PushService) -> None:
    push_service.status = 429
    push_service.headers = {"Retry-After": "120"}
    with pytest.raises(TemporaryDeliveryError) as caught:
        send(browser.subscription, PAYLOAD)
    assert caught.value.retry_after == 120  # type: ignore[attr-defined]


def test_retry_after_as_http_date(browser: Browser, push_service: PushService) -> None:
    push_service.status = 503
    push_service.headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}  # in the past
    with pytest.raises(TemporaryDeliveryError) as caught:
        send(browser.subscription, PAYLOAD)
    assert caught.value.retry_after == 0  # type: ignore[attr-defined]


def test_server_error_is_temporary(browser: Browser, push_service: PushService) -> None:
    push_service.status = 500
    push_service.headers = {}
    with pytest.raises(TemporaryDeliveryError) as caught:
        send(browser.subscription, PAYLOAD)
    assert caught.value.retry_after is None  # type: ignore[attr-defined]


def test_slow_push_service_times_out(browser: Browser, push_service: PushService) -> None:
    push_service.delay = 10
    started = time.monotonic()
    with pytest.raises(TemporaryDeliveryError):
        send(browser.subscription, PAYLOAD, timeout=0.5)
    assert time.monotonic() - started < 3


def test_closed_port_is_temporary(make: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    patient = make.patient(make.clinic())
    phone = subscribe(f"http://127.0.0.1:{port}/push/closed", patient.user_id)
    with pytest.raises(TemporaryDeliveryError):
        send(phone.subscription, PAYLOAD, timeout=2)


def test_generated_keys() -> None:
    private, public = generate_vapid_keys()
    raw_public = unb64url(public)
    assert len(raw_public) == 65 and raw_public[0] == 0x04
    assert len(unb64url(private)) == 32
    assert "=" not in private + public
    assert generate_vapid_keys() != (private, public)


def test_pem_private_key_is_accepted(app: Flask, browser: Browser, push_service: PushService,
                                     vapid_keys: tuple[str, str]) -> None:
    scalar = int.from_bytes(unb64url(vapid_keys[0]), "big")
    pem = ec.derive_private_key(scalar, ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"], vapid_private_key=pem)
    send(browser.subscription, PAYLOAD)
    headers = {name.lower(): value for name, value in push_service.received[0].headers.items()}
    verify_vapid(headers["authorization"], vapid_keys[1])


@pytest.mark.parametrize("change", [
    {"vapid_private_key": ""},
    {"vapid_private_key": "not-a-key"},
    {"vapid_public_key": generate_vapid_keys()[1]},
    {"vapid_subject": ""},
])
def test_vapid_misconfiguration_is_permanent(app: Flask, browser: Browser, push_service: PushService,
                                             change: dict[str, str]) -> None:
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"], **change)
    with pytest.raises(PermanentDeliveryError, match="VAPID"):
        send(browser.subscription, PAYLOAD)
    assert push_service.received == []


def test_oversized_payload_is_refused_before_sending(browser: Browser, push_service: PushService) -> None:
    with pytest.raises(PermanentDeliveryError, match="bytes"):
        send(browser.subscription, {"body": "ø" * 2000})
    assert push_service.received == []


def test_broken_subscription_keys_are_permanent(browser: Browser, push_service: PushService) -> None:
    browser.subscription.p256dh = b64url(b"\x04" + b"\x00" * 64)  # not a point on the curve
    with pytest.raises(PermanentDeliveryError):
        send(browser.subscription, PAYLOAD)
    assert push_service.received == []


# -- where the server may connect (security review item 1) ---------------------------------

def _without_loopback(app: Flask) -> None:
    app.config["FOLGE"] = dataclasses.replace(app.config["FOLGE"], push_allow_loopback=False)


def _resolve_to(monkeypatch: pytest.MonkeyPatch, *answers: tuple[str, int]) -> list[str]:
    """Make DNS answer each lookup with the next of ``answers`` (the last one repeats)."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("127.0.0.1", "::1"):
            return real(host, port, *args, **kwargs)
        address, real_port = answers[min(len(asked), len(answers) - 1)]
        asked.append(host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, real_port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "192.168.1.20", "172.16.0.1",
                                     "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
                                     "::1", "fe80::1", "::ffff:127.0.0.1", "fd00::1"])
def test_push_host_resolving_to_an_internal_address_is_never_called(
        app: Flask, make: Any, push_service: PushService, monkeypatch: pytest.MonkeyPatch,
        address: str) -> None:
    _without_loopback(app)
    patient = make.patient(make.clinic())
    browser = subscribe("https://fcm.googleapis.com/fcm/send/abc", patient.user_id)
    _resolve_to(monkeypatch, (address, push_service.port))
    with pytest.raises(PermanentDeliveryError, match="not public"):
        send(browser.subscription, PAYLOAD)
    assert push_service.received == []


def test_a_dns_answer_that_changes_after_the_check_reaches_nothing(
        app: Flask, make: Any, push_service: PushService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: public when checked, loopback when connecting. The socket's own peer
    address is checked after it connects, so nothing is sent."""
    _without_loopback(app)
    patient = make.patient(make.clinic())
    browser = subscribe("https://fcm.googleapis.com/fcm/send/abc", patient.user_id)
    asked = _resolve_to(monkeypatch, ("142.250.74.10", 443), ("127.0.0.1", push_service.port))
    with pytest.raises(PermanentDeliveryError, match="not public"):
        send(browser.subscription, PAYLOAD)
    assert len(asked) >= 2  # checked once, then looked up again by the connection
    assert push_service.received == []


def test_a_stored_endpoint_off_the_push_services_is_not_called(
        app: Flask, make: Any, push_service: PushService) -> None:
    """A row that got in some other way (an old version, a hand edit) is checked again."""
    _without_loopback(app)
    patient = make.patient(make.clinic())
    browser = subscribe("https://0x7f.1/x", patient.user_id)
    with pytest.raises(PermanentDeliveryError, match="allowed push service"):
        send(browser.subscription, PAYLOAD)
    assert push_service.received == []
