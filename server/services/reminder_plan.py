"""When reminders go out: the evening before and some hours before, outside quiet hours.

Pure functions on aware datetimes. Local times are computed in the clinic's
zone with zoneinfo, so "18:00 the evening before" stays 18:00 across the
changes to and from summer time; "2 hours before" is two real hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ReminderRule:
    evening_before_at: time | None = time(18, 0)
    hours_before: int | None = 2
    quiet_from: time = time(22, 0)
    quiet_until: time = time(8, 0)


def in_quiet_hours(moment: datetime, rule: ReminderRule, tz: ZoneInfo) -> bool:
    """True when ``moment`` falls in the quiet window (which may span midnight)."""
    local = moment.astimezone(tz).time()
    start, end = rule.quiet_from, rule.quiet_until
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _local(day: datetime, at: time, tz: ZoneInfo) -> datetime:
    """``at`` on the local calendar day of ``day``, as UTC. A time that does not exist
    on a spring-forward night (02:30) is taken one hour later, as the clock shows it."""
    local_day = day.astimezone(tz).date()
    candidate = datetime.combine(local_day, at, tzinfo=tz)
    # Round trip through UTC normalises a non-existent wall time.
    return candidate.astimezone(UTC)


def end_of_quiet(moment: datetime, rule: ReminderRule, tz: ZoneInfo) -> datetime:
    """The first moment at or after ``moment`` outside the quiet window."""
    if not in_quiet_hours(moment, rule, tz):
        return moment
    until_today = _local(moment, rule.quiet_until, tz)
    if until_today > moment:
        return until_today
    return _local(moment + timedelta(days=1), rule.quiet_until, tz)


def start_of_quiet(moment: datetime, rule: ReminderRule, tz: ZoneInfo) -> datetime:
    """The last minute before the quiet window that contains ``moment`` began."""
    begin = _local(moment, rule.quiet_from, tz)
    if begin > moment:
        begin = _local(moment - timedelta(days=1), rule.quiet_from, tz)
    return begin - timedelta(minutes=1)


def reminder_times(starts_at: datetime, rule: ReminderRule, tz: ZoneInfo,
                   now: datetime) -> list[tuple[str, datetime]]:
    """The (label, UTC time) of each reminder still ahead of us, in time order.

    A reminder that would fall in quiet hours moves to the end of them when
    that is still before the appointment, otherwise to just before they
    began. Reminders already past, or not before the appointment, are dropped.
    """
    planned: list[tuple[str, datetime]] = []
    if rule.evening_before_at is not None:
        planned.append(("evening", _local(starts_at - timedelta(days=1), rule.evening_before_at,
                                          tz)))
    if rule.hours_before:
        planned.append((f"h{rule.hours_before}", starts_at - timedelta(hours=rule.hours_before)))
    result: list[tuple[str, datetime]] = []
    for label, moment in planned:
        if in_quiet_hours(moment, rule, tz):
            later = end_of_quiet(moment, rule, tz)
            moment = later if later < starts_at else start_of_quiet(moment, rule, tz)
        if now <= moment < starts_at and all(abs(moment - m) > timedelta(minutes=30)
                                             for _, m in result):
            result.append((label, moment))
    return sorted(result, key=lambda item: item[1])
