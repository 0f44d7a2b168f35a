"""Record sign-in attempts: method, outcome, account and address, never a secret."""

from __future__ import annotations

from flask import has_request_context, request

from server.extensions import db
from server.models import SignInEvent, SignInMethod, SignInOutcome


def record(
    method: SignInMethod,
    outcome: SignInOutcome,
    user_id: int | None = None,
    detail: str = "",
) -> None:
    """Add a sign-in event to the current transaction (the caller commits)."""
    db.session.add(
        SignInEvent(
            method=method,
            outcome=outcome,
            user_id=user_id,
            detail=detail[:64],
            ip_address=((request.remote_addr or "") if has_request_context() else "")[:64],
        )
    )


def record_now(
    method: SignInMethod,
    outcome: SignInOutcome,
    user_id: int | None = None,
    detail: str = "",
) -> None:
    """Record and commit at once; for failures that change nothing else."""
    record(method, outcome, user_id, detail)
    db.session.commit()
