"""SMS transport: a provider interface and the development adapter.

The real HTTP provider adapter arrives with the reminder engine; sign-in
codes go through the same interface, sent at once rather than through the
outbox because a code is useless after ten minutes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from server.extensions import db
from server.models import DevSms

log = logging.getLogger("folge.sms")


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    provider_id: str


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> SentSms:
        """Hand one SMS to the provider; raise a DeliveryError on failure."""
        ...


class DevSmsProvider:
    """Keeps messages in the database for the development outbox page and the log."""

    def send(self, to: str, body: str) -> SentSms:
        row = DevSms(to=to, body=body)
        db.session.add(row)
        db.session.flush()
        log.warning("DEV SMS to %s: %s", to, body)
        return SentSms(to=to, body=body, provider_id=f"dev-{row.id}")


def dev_outbox(limit: int = 50) -> list[DevSms]:
    """What the development adapter kept, newest first."""
    return list(db.session.scalars(select(DevSms).order_by(DevSms.id.desc()).limit(limit)))


def provider() -> SmsProvider:
    """The configured provider; tests replace it through ``app.extensions``."""
    found = current_app.extensions.get("folge_sms")
    if found is None:
        found = DevSmsProvider()
        current_app.extensions["folge_sms"] = found
    return found  # type: ignore[no-any-return]
