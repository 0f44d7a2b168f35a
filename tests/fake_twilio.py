"""A local fake of Twilio's Messages API, for tests that run real worker processes.

It answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` on 127.0.0.1
(a free port) the way Twilio does: form fields To, From, Body (and the
optional StatusCallback) in, ``201 Created`` with the message resource as
JSON out, which the ``twilio`` package turns into a ``MessageInstance``.

Like Twilio it honours the ``I-Twilio-Idempotency-Token`` header: a request
that repeats a token gets the first message back and has no new effect.
It keeps every raw request and every effect (token -> message), and can
wait a while before answering so that a batch takes time. ``before_reply``
is called in the request's thread after the message was accepted and before
the answer is written: a test can kill the sender right there, the moment
when the provider has the message but the sender never hears about it.

The caller of each request is told apart by its auth token (HTTP basic auth
``<account sid>:<auth token>``), so workers can be given different tokens of
the same account. All state is guarded by one lock.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
API_VERSION = "2010-04-01"
_MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(AC[0-9A-Za-z]{{32}})/Messages\.json$")


@dataclass(frozen=True)
class FakeRequest:
    """One POST to the Messages resource, as received (accepted or not)."""

    n: int  # 1-based arrival order
    caller: str  # the auth token used, which tells the senders apart
    token: str | None  # the idempotency token, if any
    to: str
    from_: str
    body: str
    status_callback: str | None
    #: The sid answered (None when the request was refused), and whether it repeated a token.
    sid: str | None = None
    repeated: bool = False


@dataclass
class FakeTwilio:
    """The fake server. Use as a context manager, or call ``start`` and ``stop``."""

    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    #: Seconds to wait before each answer (after the message was accepted).
    delay: float = 0.0
    #: Called as ``before_reply(request)`` before each successful answer is written.
    before_reply: Callable[[FakeRequest], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[FakeRequest] = []
        self._effects: dict[str, dict[str, Any]] = {}
        self._untokened: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            owner = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="fake-twilio",
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the fake is not running"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What FOLGE_TWILIO_BASE_URL should be (replaces https://api.twilio.com)."""
        return f"http://127.0.0.1:{self.port}"

    # -- what it saw ----------------------------------------------------------------
    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return list(self._requests)

    def effects(self) -> dict[str, dict[str, Any]]:
        """Accepted messages by idempotency token (a copy)."""
        with self._lock:
            return {token: dict(message) for token, message in self._effects.items()}

    def untokened(self) -> list[dict[str, Any]]:
        """Accepted messages that came without an idempotency token."""
        with self._lock:
            return [dict(message) for message in self._untokened]

    # -- handling -----------------------------------------------------------------
    def _accept(self, caller: str, token: str | None, to: str, from_: str, body: str,
                status_callback: str | None) -> tuple[FakeRequest, dict[str, Any]]:
        """Record the request; return it and the message to answer with."""
        with self._lock:
            n = len(self._requests) + 1
            repeated = token is not None and token in self._effects
            if repeated:
                message = self._effects[token]  # type: ignore[index]
            else:
                message = self._message(to, from_, body, status_callback)
                if token is not None:
                    self._effects[token] = message
                else:
                    self._untokened.append(message)
            request = FakeRequest(n=n, caller=caller, token=token, to=to, from_=from_, body=body,
                                  status_callback=status_callback, sid=message["sid"],
                                  repeated=repeated)
            self._requests.append(request)
            return request, dict(message)

    def _refused(self, caller: str, token: str | None, fields: dict[str, str]) -> None:
        with self._lock:
            self._requests.append(FakeRequest(
                n=len(self._requests) + 1, caller=caller, token=token, to=fields.get("To", ""),
                from_=fields.get("From", ""), body=fields.get("Body", ""),
                status_callback=fields.get("StatusCallback")))

    def _message(self, to: str, from_: str, body: str,
                 status_callback: str | None) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = format_datetime(datetime.now(UTC).replace(microsecond=0))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": to,
            "uri": f"{uri}.json",
            "status_callback": status_callback,
        }


class _Handler(BaseHTTPRequestHandler):
    owner: FakeTwilio
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' session expects

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the caller is gone (e.g. killed); nothing to do

    def _error(self, status: int, code: int, message: str) -> None:
        self._answer(status, {"code": code, "message": message, "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"})

    def _caller(self) -> tuple[str, str] | None:
        """(account sid, auth token) from basic auth, or None."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            sid, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return sid, token

    def do_GET(self) -> None:  # noqa: N802
        self._error(404, 20404, "The requested resource was not found")

    def do_POST(self) -> None:  # noqa: N802
        fake = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        match = _MESSAGES_PATH.match(self.path.split("?", 1)[0])
        if match is None:
            self._error(404, 20404, "The requested resource was not found")
            return
        credentials = self._caller()
        if credentials is None or credentials[0] != fake.account_sid or \
                match.group(1) != fake.account_sid:
            self._error(401, 20003, "Authenticate")
            return
        caller = credentials[1]
        fields = {key: values[-1] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        token = self.headers.get(IDEMPOTENCY_HEADER) or None
        to, from_, body = fields.get("To", ""), fields.get("From", ""), fields.get("Body", "")
        if not to:
            fake._refused(caller, token, fields)
            self._error(400, 21604, "A 'To' phone number is required.")
            return
        if not from_:
            fake._refused(caller, token, fields)
            self._error(400, 21603, "A 'From' phone number is required.")
            return
        if not body:
            fake._refused(caller, token, fields)
            self._error(400, 21602, "Message body is required.")
            return
        request, message = fake._accept(caller, token, to, from_, body,
                                        fields.get("StatusCallback"))
        if fake.before_reply is not None:
            fake.before_reply(request)
        if fake.delay:
            time.sleep(fake.delay)
        self._answer(201, message)
