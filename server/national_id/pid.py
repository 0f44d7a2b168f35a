"""The national identity number (fødselsnummer or D-number): validated with python-stdnum,
matched by a keyed hash (HMAC-SHA256 with FOLGE_PID_KEY), never stored.

What is kept of a number: its hash, to find the patient at the next ID-porten sign-in, and a
masked form for staff to recognise it by ("010170 *****": the birth date, which the clinic
has anyway, and nothing of the personal part).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from stdnum.exceptions import ValidationError
from stdnum.no import fodselsnummer

from server.models import PatientProfile, User
from server.services.errors import DomainError


class PidError(DomainError):
    """Not a valid national identity number."""


def normalize(raw: str) -> str:
    """The 11 digits of a valid fødselsnummer or D-number, or PidError with a message."""
    compact = fodselsnummer.compact(raw or "")
    if not compact:
        raise PidError(_l("Write the 11 digits of the national identity number."), "empty",
                       "pid")
    try:
        return str(fodselsnummer.validate(compact))
    except ValidationError:
        raise PidError(_l("This is not a valid national identity number (fødselsnummer or "
                          "D-number). Check the 11 digits."), "invalid", "pid") from None


def keyed_hash(pid: str, key: str | None = None) -> str:
    """The hash the number is matched by (hex). The key comes from the configuration."""
    secret = key if key is not None else current_app.config["FOLGE"].pid_key
    if not secret:
        raise RuntimeError("FOLGE_PID_KEY is not set")
    return hmac.new(secret.encode(), normalize(pid).encode(), hashlib.sha256).hexdigest()


def masked(pid: str) -> str:
    """How staff see a saved number: the first six digits and five stars."""
    return f"{normalize(pid)[:6]} *****"


def birth_date(pid: str) -> date | None:
    """The date of birth in the number (also for D-numbers), or None."""
    try:
        return fodselsnummer.get_birth_date(normalize(pid))
    except (ValidationError, PidError):
        return None


def register(patient: PatientProfile, raw: str) -> None:
    """Staff register the patient's number: validated, checked against the date of birth
    the clinic has and against every other patient, then kept as its hash. Commits."""
    from server.extensions import db

    number = normalize(raw)
    born = birth_date(number)
    if patient.date_of_birth is not None and born is not None and born != patient.date_of_birth:
        raise PidError(_l("The number belongs to someone born %(day)s, not on the patient's "
                          "date of birth. Check the number.", day=born.strftime("%d.%m.%Y")),
                       "other_birth_date", "pid")
    hashed = keyed_hash(number)
    other = db.session.scalar(select(User.id).where(User.pid_hash == hashed,
                                                    User.id != patient.user_id))
    if other is not None:
        raise PidError(_l("This number is registered for another person. Check the number."),
                       "taken", "pid")
    patient.user.pid_hash = hashed
    patient.user.pid_masked = masked(number)
    if patient.date_of_birth is None:
        patient.date_of_birth = born
    db.session.commit()
