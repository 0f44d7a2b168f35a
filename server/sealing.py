"""Secrets at rest: values the app must read back (TOTP seeds) are stored encrypted.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) with the keys in
``FOLGE_DATA_KEY``, newest first: the first key seals, every key opens, so a
key can be rotated by putting a new one in front and running
``flask --app wsgi reseal``. The key lives in the environment, never in the
database, so a copy of the database alone does not give the secrets away.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import String, TypeDecorator
from sqlalchemy.engine import Dialect


class SealingError(RuntimeError):
    """No key is configured, or a stored value does not open with any configured key."""


def box(keys: tuple[str, ...] | None = None) -> MultiFernet:
    """The Fernet keys of this instance (from the configuration unless given)."""
    if keys is None:
        keys = current_app.config["FOLGE"].data_keys
    if not keys:
        raise SealingError("FOLGE_DATA_KEY is not set: secrets at rest cannot be sealed")
    return MultiFernet([Fernet(key) for key in keys])


def seal(plain: str, keys: tuple[str, ...] | None = None) -> str:
    """``plain`` encrypted and authenticated with the newest key, as text."""
    return box(keys).encrypt(plain.encode()).decode("ascii")


def unseal(token: str, keys: tuple[str, ...] | None = None) -> str:
    """The plain value of a sealed ``token``; raises SealingError when no key opens it."""
    try:
        return box(keys).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SealingError("a sealed value does not open with FOLGE_DATA_KEY") from exc


def reseal(token: str, keys: tuple[str, ...] | None = None) -> str:
    """The same value sealed with the newest key (after a key rotation)."""
    return box(keys).rotate(token.encode("ascii")).decode("ascii")


class SealedString(TypeDecorator[str]):
    """A text column stored sealed: the application sees the plain value, the database
    only ciphertext. Needs an app context (the keys come from its configuration)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else seal(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else unseal(str(value))
