"""Server-side sign-in sessions with per-role idle limits and an absolute limit.

A session starts with a fresh random token at every sign-in (so the session
id changes), is looked up on every request, and ends on sign-out, timeout or
when the account is disabled. A copied cookie is worth nothing once its row
has ended.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from server.config import Config
from server.extensions import db
from server.models import PatientProfile, Role, User, UserSession
from server.models.base import utcnow

#: last_seen_at is written at most this often, to spare a write per request.
_TOUCH_EVERY = timedelta(seconds=10)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _config() -> Config:
    return current_app.config["FOLGE"]


def idle_limit(role: Role) -> timedelta:
    """How long a session of this role may sit idle."""
    cfg = _config()
    minutes = cfg.staff_idle_minutes if role is Role.STAFF else cfg.patient_idle_minutes
    return timedelta(minutes=minutes)


def start(user: User, device: str = "", method: str = "sms_code", level: str = "low",
          oidc_sid: str | None = None, id_token: str | None = None) -> str:
    """Open a new session for ``user`` and return its token. Commits. ``device`` names the
    browser for "Where you are signed in" (services/devices.py); ``method`` and ``level`` say
    how the person signed in (an ID-porten level, or "low"); ``oidc_sid`` and ``id_token``
    tie it to an ID-porten session for logging out of both."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, device=device[:100],
                               method=method, level=level, oidc_sid=oidc_sid,
                               id_token=id_token))
    db.session.commit()
    user.session_token = token
    return token


@cache
def _session_statement() -> Select[tuple[UserSession]]:
    """Built once per process: this query runs on every signed-in request."""
    return (select(UserSession)
            .where(UserSession.token_hash == bindparam("token_hash"))
            .options(joinedload(UserSession.user)
                     .joinedload(User.patient_profile)
                     .joinedload(PatientProfile.clinic)))


def load(token: str, now: datetime | None = None) -> tuple[User | None, str | None]:
    """Return the signed-in user for ``token``, or None and why the session ended.

    Ends the session (on the server) when it is idle, too old, or its account
    is disabled.
    """
    now = now or utcnow()
    # One query loads the session, its user and (for patients) profile and clinic,
    # which nearly every page needs.
    row = db.session.scalar(_session_statement(), {"token_hash": _hash(token)})
    if row is None:
        return None, None
    if row.ended_at is not None:
        return None, row.end_reason
    user = row.user
    reason = None
    if user.disabled_at is not None:
        reason = "disabled"
    elif now - row.created_at > timedelta(hours=_config().session_max_hours):
        reason = "expired"
    elif now - row.last_seen_at > idle_limit(user.role):
        reason = "idle"
    if reason:
        row.ended_at = now
        row.end_reason = reason
        db.session.commit()
        return None, reason
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user.session_token = token
    return user, None


def end(token: str, reason: str = "signed_out") -> None:
    """End one session (and forget its ID token). Commits."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason, id_token=None)
    )
    db.session.commit()


def current_row(token: str | None) -> UserSession | None:
    """The open session row of ``token`` (its method, level and ID-porten ties)."""
    if not token:
        return None
    return db.session.scalar(select(UserSession).where(
        UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None)))


def raise_level(token: str | None, level: str, oidc_sid: str | None,
                id_token: str | None) -> None:
    """A step-up with ID-porten: this session now has ``level`` and is tied to that ID-porten
    session. Commits."""
    row = current_row(token)
    if row is None:
        return
    row.method, row.level, row.oidc_sid, row.id_token = "idporten", level, oidc_sid, id_token
    db.session.commit()


def end_for_oidc_sid(sid: str, reason: str = "signed_out_idporten") -> int:
    """End the sessions tied to an ID-porten session (its logout told us). Commits."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.oidc_sid == sid, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason, id_token=None))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_all_for(user_id: int, reason: str) -> int:
    """End every open session of a user; returns how many ended. Caller commits."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason, id_token=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _still_open(row: UserSession, now: datetime) -> bool:
    return row.ended_at is None and \
        now - row.created_at <= timedelta(hours=_config().session_max_hours) and \
        now - row.last_seen_at <= idle_limit(row.user.role)


def open_for(user: User) -> list[UserSession]:
    """The user's sessions that are still open, the most recently used first."""
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).all()
    return [row for row in rows if _still_open(row, now)]


def is_current(row: UserSession, token: str | None) -> bool:
    """Is ``row`` the session of the request holding ``token``?"""
    return bool(token) and row.token_hash == _hash(str(token))


def end_one_of(user: User, session_id: int, reason: str = "signed_out_elsewhere") -> bool:
    """End one of ``user``'s own sessions (never anyone else's). Commits; True when ended."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user.id,
               UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason))
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_others(user: User, token: str, reason: str = "signed_out_elsewhere") -> int:
    """End every open session of ``user`` except the one holding ``token``. Commits."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
               UserSession.token_hash != _hash(token))
        .values(ended_at=utcnow(), end_reason=reason))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
