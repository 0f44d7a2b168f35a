"""The crisis plan by letter when it changes, for patients who read on paper (issue 15).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

from server.migration_helpers import set_enum_check

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_PURPOSES_BEFORE = ("reminder", "notice", "no_show", "reply", "push_test", "decision",
                    "feedback_invite", "feedback_reminder", "relative_added", "access_ended",
                    "invite_failed", "team_sheet", "transfer", "message", "staff_message",
                    "agreed")
_PURPOSES_AFTER = (*_PURPOSES_BEFORE, "crisis_plan")


def upgrade() -> None:
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_AFTER)


def downgrade() -> None:
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_BEFORE)
