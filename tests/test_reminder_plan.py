"""Reminder times: the evening before at 18:00 local, hours before, quiet hours, DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from server.services.local_time import LocalTimeError, to_utc
from server.services.reminder_plan import ReminderRule, in_quiet_hours, reminder_times

OSLO = ZoneInfo("Europe/Oslo")
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def local(moment: datetime) -> str:
    return moment.astimezone(OSLO).strftime("%Y-%m-%d %H:%M %Z")


def test_ordinary_day() -> None:
    starts = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Oslo (CET)
    times = reminder_times(starts, ReminderRule(), OSLO, LONG_AGO)
    assert [(label, local(t)) for label, t in times] == [
        ("evening", "2026-11-25 18:00 CET"),
        ("h2", "2026-11-26 08:00 CET"),
    ]


def test_spring_forward_last_sunday_of_march() -> None:
    # Sunday 29 March 2026: clocks go from 02:00 to 03:00. 10:00 CEST is 08:00 UTC.
    starts = to_utc(datetime(2026, 3, 29).date(), time(10, 0))
    assert starts == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    times = dict(reminder_times(starts, ReminderRule(), OSLO, LONG_AGO))
    assert local(times["evening"]) == "2026-03-28 18:00 CET"
    assert times["evening"] == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
    assert local(times["h2"]) == "2026-03-29 08:00 CEST"  # two real hours before
    # And for the Monday after, the evening reminder is on the new summer time.
    monday = to_utc(datetime(2026, 3, 30).date(), time(10, 0))
    evening = dict(reminder_times(monday, ReminderRule(), OSLO, LONG_AGO))["evening"]
    assert evening == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    assert local(evening) == "2026-03-29 18:00 CEST"


def test_fall_back_last_sunday_of_october() -> None:
    # Sunday 25 October 2026: clocks go from 03:00 back to 02:00. 10:00 CET is 09:00 UTC.
    starts = to_utc(datetime(2026, 10, 25).date(), time(10, 0))
    assert starts == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    times = dict(reminder_times(starts, ReminderRule(), OSLO, LONG_AGO))
    assert times["evening"] == datetime(2026, 10, 24, 16, 0, tzinfo=UTC)
    assert local(times["evening"]) == "2026-10-24 18:00 CEST"
    assert local(times["h2"]) == "2026-10-25 08:00 CET"
    monday = to_utc(datetime(2026, 10, 26).date(), time(10, 0))
    evening = dict(reminder_times(monday, ReminderRule(), OSLO, LONG_AGO))["evening"]
    assert local(evening) == "2026-10-25 18:00 CET" and evening.hour == 17


def test_a_time_that_does_not_exist_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LocalTimeError):
        to_utc(datetime(2026, 3, 29).date(), time(2, 30))


@pytest.mark.parametrize(("starts_local", "expected_h2"), [
    ("09:00", "08:00"),  # 07:00 is quiet: moved to when quiet hours end
    ("08:30", "08:00"),
    ("12:00", "10:00"),
])
def test_quiet_hours_move_the_reminder(starts_local: str, expected_h2: str) -> None:
    hour, minute = map(int, starts_local.split(":"))
    starts = to_utc(datetime(2026, 11, 26).date(), time(hour, minute))
    times = dict(reminder_times(starts, ReminderRule(), OSLO, LONG_AGO))
    assert local(times["h2"]).endswith(f"{expected_h2} CET")


def test_early_appointment_reminder_moves_to_the_evening_before() -> None:
    rule = ReminderRule(evening_before_at=None, hours_before=2)
    starts = to_utc(datetime(2026, 11, 26).date(), time(8, 0))  # 06:00 quiet, 08:00 too late
    times = reminder_times(starts, rule, OSLO, LONG_AGO)
    assert [local(t) for _, t in times] == ["2026-11-25 21:59 CET"]


def test_past_reminders_are_dropped_and_none_after_start() -> None:
    starts = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)  # after the evening and the 2-hour mark
    assert reminder_times(starts, ReminderRule(), OSLO, now) == []


def test_quiet_window_over_midnight() -> None:
    rule = ReminderRule()
    assert in_quiet_hours(datetime(2026, 11, 25, 22, 30, tzinfo=UTC), rule, OSLO)  # 23:30
    assert in_quiet_hours(datetime(2026, 11, 26, 6, 59, tzinfo=UTC), rule, OSLO)  # 07:59
    assert not in_quiet_hours(datetime(2026, 11, 26, 7, 0, tzinfo=UTC), rule, OSLO)  # 08:00
    assert not in_quiet_hours(datetime(2026, 11, 25, 20, 59, tzinfo=UTC), rule, OSLO)  # 21:59
