"""The crisis plan by letter when it changes, for patients who read on paper, and the export of
the goals for the municipality's individual plan, logged as its own kind of read (issue 15).

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
_TARGETS_BEFORE = ("patient_overview", "contact_details", "appointment", "messages", "take_home",
                   "feedback", "relatives", "pickup_plan", "name", "account", "care_team",
                   "transfer", "archive", "conversation", "observations", "export",
                   "crisis_plan", "goals")
_TARGETS_AFTER = (*_TARGETS_BEFORE, "ip_export")


def upgrade() -> None:
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_AFTER)
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_AFTER)


def downgrade() -> None:
    set_enum_check("access_log_entry", "access_target", "target", _TARGETS_BEFORE)
    set_enum_check("outbox_message", "message_purpose", "purpose", _PURPOSES_BEFORE)
