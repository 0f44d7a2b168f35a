"""Email, used only for invitations to relatives who gave an email address.

Two adapters behind one function: ``dev`` stores the email in ``dev_email``
(shown on /dev/outbox) and is refused in production; ``smtp`` sends through
the server in FOLGE_SMTP_HOST with STARTTLS (Python's smtplib). Tests put
their own adapter in ``app.extensions["folge_email"]``.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Protocol

from flask import current_app

from server.config import Config
from server.extensions import db
from server.models import DevEmail
from server.notify.errors import PermanentDeliveryError, TemporaryDeliveryError


class EmailProvider(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class DevEmailProvider:
    def send(self, to: str, subject: str, body: str) -> None:
        db.session.add(DevEmail(to=to, subject=subject, body=body))
        current_app.logger.info("development email to %s: %s", to, subject)


class SmtpEmailProvider:
    def __init__(self, config: Config) -> None:
        self.config = config

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.config.email_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.config.smtp_host, self.config.smtp_port, timeout=10) as smtp:
                smtp.starttls()
                if self.config.smtp_user:
                    smtp.login(self.config.smtp_user, self.config.smtp_password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"address refused: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryDeliveryError(f"SMTP failed: {exc}") from exc


def provider() -> EmailProvider:
    found = current_app.extensions.get("folge_email")
    if found is None:
        config: Config = current_app.config["FOLGE"]
        if config.email_provider == "smtp":
            found = SmtpEmailProvider(config)
        elif config.email_provider == "dev" and not config.is_production:
            found = DevEmailProvider()
        else:
            raise PermanentDeliveryError(
                f"FOLGE_EMAIL_PROVIDER={config.email_provider!r} cannot be used here")
        current_app.extensions["folge_email"] = found
    return found  # type: ignore[no-any-return]
