"""Helpers shared by Alembic migrations (migrations/versions/)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_APPEND_ONLY = ("""CREATE TRIGGER access_log_entry_no_update BEFORE UPDATE ON access_log_entry
    BEGIN SELECT RAISE(ABORT, 'access_log_entry is append-only'); END""",
                """CREATE TRIGGER access_log_entry_no_delete BEFORE DELETE ON access_log_entry
    BEGIN SELECT RAISE(ABORT, 'access_log_entry is append-only'); END""")


def set_enum_check(table: str, check: str, column: str, values: tuple[str, ...]) -> None:
    """Replace the CHECK that lists an enum column's values.

    SQLite cannot alter a CHECK, so the table is rebuilt there; for the access
    log that drops its append-only triggers, which are then created again.
    """
    allowed = ", ".join(f"'{v}'" for v in values)
    if op.get_bind().dialect.name == "postgresql":
        name = f"ck_{table}_{check}"
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({column} IN ({allowed}))")
        return
    log = table == "access_log_entry"
    if log:
        op.execute("DROP TRIGGER IF EXISTS access_log_entry_no_update")
        op.execute("DROP TRIGGER IF EXISTS access_log_entry_no_delete")
    with op.batch_alter_table(table, recreate="always") as batch_op:
        batch_op.drop_constraint(check, type_="check")
        batch_op.create_check_constraint(check, sa.text(f"{column} IN ({allowed})"))
    if log:
        for statement in _APPEND_ONLY:
            op.execute(statement)
