"""Sign-in and verification codes, sent outside the request that asked for them.

Sending an SMS takes a provider round trip (hundreds of milliseconds with
Twilio). Done inside the request, it made the answer for a known number
slower than for an unknown one, which told anyone which numbers have an
account. So the request only hands the message to this sender and answers;
a thread of the same process sends it at once.

Codes do not go through the outbox: reminders queued there could make a code
late, and a late code is useless. A code lost because the process stopped in
the second after the request is asked for again by the person (the page says
how); nothing else depends on it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from server.extensions import db
from server.notify import sms
from server.notify.errors import DeliveryError

log = logging.getLogger("folge.codes")


@dataclass(frozen=True)
class CodeSms:
    to: str
    body: str


class CodeSender(Protocol):
    def submit(self, message: CodeSms) -> None:
        """Take one code SMS to send; never blocks on the provider."""
        ...


def _deliver(message: CodeSms) -> None:
    """Hand one code to the SMS provider (in an app context) and commit what it stored."""
    try:
        sms.provider().send(message.to, message.body)
        db.session.commit()  # the development adapter keeps the SMS in the database
    except DeliveryError as exc:
        db.session.rollback()
        log.error("a code SMS could not be sent: %s", exc)


class ThreadedCodeSender:
    """One sending thread per process, started on first use (also after a fork, so each
    gunicorn worker has its own)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[CodeSms] = queue.Queue(maxsize=10_000)
        self._pid = 0
        self._lock = threading.Lock()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="folge-code-sender", daemon=True).start()

    def submit(self, message: CodeSms) -> None:
        self._ensure_thread()
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            log.error("the code queue is full; a code SMS was dropped")

    def _run(self) -> None:
        while True:
            message = self.queue.get()
            try:
                with self.app.app_context():
                    _deliver(message)
                    db.session.remove()
            except Exception:  # the thread must outlive any one message
                log.exception("sending a code SMS failed")
            finally:
                self.queue.task_done()

    def wait_until_sent(self) -> None:
        """Block until every code handed over so far has been sent (for tests and benches)."""
        self.queue.join()


class InlineCodeSender:
    """Sends in the caller's request (tests that read the code right after asking)."""

    def submit(self, message: CodeSms) -> None:
        _deliver(message)


def sender() -> CodeSender:
    """This app's code sender (tests may put their own in ``app.extensions``)."""
    found = current_app.extensions.get("folge_code_sender")
    if found is None:
        found = ThreadedCodeSender(current_app._get_current_object())  # type: ignore[attr-defined]
        current_app.extensions["folge_code_sender"] = found
    return found  # type: ignore[no-any-return]
