"""Declarative base, naming convention and the UTC timestamp type."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Enum, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current moment as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store naive UTC, hand back aware UTC, on SQLite and PostgreSQL alike.

    Refuses naive datetimes on the way in, so that a local time can never be
    stored by mistake.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def empty_all_tables(url: str) -> None:
    """Empty every table of the app on a PostgreSQL database and restart its ids.

    For tests and benchmarks that reuse one PostgreSQL database between runs;
    never called by the app itself.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def copy_type(column: Column[Any], dialect: Dialect) -> str:
    """The name psycopg knows ``column``'s PostgreSQL type by, for a binary COPY
    (``Copy.set_types``): "VARCHAR(32)" is "varchar", "TIMESTAMP WITHOUT TIME ZONE" itself.

    Binary, because the server then reads numbers and times as they are stored instead of
    parsing their text, and psycopg packs them with less work than it formats them. A JSON
    column is sent as text: its binary form is its text, which the caller has encoded once.
    """
    if isinstance(column.type, JSON):
        return "text"
    return re.sub(r"\(.*\)$", "", column.type.compile(dialect)).lower()
