"""Turn a local date and time typed by staff into UTC, refusing times that do not exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from server.services.errors import DomainError


class LocalTimeError(DomainError):
    """A wall-clock time that cannot be used."""


def oslo_today(zone: str = "Europe/Oslo") -> date:
    """Today's calendar day in Norway (not the server's)."""
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


def to_utc(day: date, at: time, zone: str = "Europe/Oslo") -> datetime:
    """``day`` at ``at`` in ``zone`` as aware UTC.

    A time skipped when clocks go forward (02:30 on the last Sunday of March)
    is refused. A time that happens twice when clocks go back is taken the
    first time (summer time), which is what people mean by "02:30" that night
    in practice rarely; staff can pick 03:00 instead.
    """
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at, tzinfo=tz)
    back = local.astimezone(UTC).astimezone(tz)
    if (back.hour, back.minute) != (at.hour, at.minute):
        raise LocalTimeError(
            _l("This time does not exist that night, because the clocks go forward. "
               "Choose another time."), "nonexistent")
    return local.astimezone(UTC)
