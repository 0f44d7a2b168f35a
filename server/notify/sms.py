"""SMS transport: a provider interface with a development adapter and a Twilio adapter.

Each send carries an idempotency key. The development adapter stores the
message in the same database transaction as the outbox's "sent" mark, so a
crash loses or keeps both. The Twilio adapter passes the key in a request
header; a provider (or test double) that honours it turns a retry after a
crash into a no-op. Sign-in codes use the same interface but are sent at
once, not through the outbox: a late code is useless.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.config import Config
from server.extensions import db
from server.models import DevSms
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError

log = logging.getLogger("folge.sms")

#: Header carrying the idempotency key to the provider.
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    provider_id: str


class SmsProvider(Protocol):
    def send(self, to: str, body: str, idempotency_key: str | None = None,
             status_callback: str | None = None) -> SentSms:
        """Hand one SMS to the provider; raise a DeliveryError on failure."""
        ...


class DevSmsProvider:
    """Keeps messages in the database for the development outbox page and the log."""

    def send(self, to: str, body: str, idempotency_key: str | None = None,
             status_callback: str | None = None) -> SentSms:
        # One statement per SMS: the row goes in unless its key is there already (a second
        # send with the same key), and only then is the first one read back. The worker
        # sends through here hundreds of times a second in the benchmarks.
        insert = (postgresql_insert if db.session.get_bind().dialect.name == "postgresql"
                  else sqlite_insert)
        row_id = db.session.scalar(
            insert(DevSms).values(to=to, body=body, idempotency_key=idempotency_key)
            .on_conflict_do_nothing(index_elements=[DevSms.idempotency_key])
            .returning(DevSms.id))
        if row_id is None:
            existing = db.session.scalars(select(DevSms).where(
                DevSms.idempotency_key == idempotency_key)).one()
            return SentSms(to=existing.to, body=existing.body, provider_id=f"dev-{existing.id}")
        log.warning("DEV SMS to %s: %s", to, body)
        return SentSms(to=to, body=body, provider_id=f"dev-{row_id}")


_current_key: contextvars.ContextVar[str | None] = contextvars.ContextVar("sms_key", default=None)


def _twilio_client(config: Config) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    class KeyedHttpClient(TwilioHttpClient):
        """Adds the idempotency key of the message being sent to the request."""

        def request(self, method: str, url: str, params: Any = None, data: Any = None,
                    headers: Any = None, auth: Any = None, timeout: Any = None,
                    allow_redirects: bool = False) -> Any:
            headers = dict(headers or {})
            key = _current_key.get()
            if key:
                headers[IDEMPOTENCY_HEADER] = key
            return super().request(method, url, params, data, headers, auth, timeout,
                                   allow_redirects)

    client = Client(config.twilio_account_sid, config.twilio_auth_token,
                    http_client=KeyedHttpClient(timeout=10))
    if config.twilio_base_url:
        client.api.base_url = config.twilio_base_url.rstrip("/")
    return client


class TwilioSmsProvider:
    """Sends through Twilio's REST API (the ``twilio`` package)."""

    #: Twilio error codes that mean "this number will never work".
    PERMANENT_CODES = {21211, 21214, 21217, 21408, 21610, 21612, 21614}

    def __init__(self, config: Config) -> None:
        if not (config.twilio_account_sid and config.twilio_auth_token and
                config.twilio_from_number):
            raise PermanentDeliveryError("Twilio is not configured (FOLGE_TWILIO_* variables)")
        self.config = config
        self.client = _twilio_client(config)

    def send(self, to: str, body: str, idempotency_key: str | None = None,
             status_callback: str | None = None) -> SentSms:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        token = _current_key.set(idempotency_key)
        try:
            kwargs: dict[str, Any] = {"to": to, "from_": self.config.twilio_from_number,
                                      "body": body}
            if status_callback:
                kwargs["status_callback"] = status_callback
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            if exc.code in self.PERMANENT_CODES or exc.status in (400, 404):
                raise PermanentDeliveryError(f"twilio {exc.status} {exc.code}: {exc.msg}") from exc
            raise TemporaryDeliveryError(f"twilio {exc.status} {exc.code}: {exc.msg}") from exc
        except (TwilioException, OSError) as exc:
            raise TemporaryDeliveryError(f"twilio: {exc}") from exc
        finally:
            _current_key.reset(token)
        return SentSms(to=to, body=body, provider_id=str(message.sid))


def dev_outbox(limit: int = 50) -> list[DevSms]:
    """What the development adapter kept, newest first."""
    return list(db.session.scalars(select(DevSms).order_by(DevSms.id.desc()).limit(limit)))


def provider() -> SmsProvider:
    """The configured provider (tests put their own in ``app.extensions``)."""
    found = current_app.extensions.get("folge_sms")
    if found is None:
        config: Config = current_app.config["FOLGE"]
        if config.sms_provider == "twilio":
            found = TwilioSmsProvider(config)
        elif config.sms_provider == "dev" and not config.is_production:
            found = DevSmsProvider()
        else:
            raise PermanentDeliveryError(
                f"FOLGE_SMS_PROVIDER={config.sms_provider!r} cannot be used here")
        current_app.extensions["folge_sms"] = found
    return found  # type: ignore[no-any-return]
