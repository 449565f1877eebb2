"""Calling windows in the contact's own time zone, across DST changes, with fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime

from ivr.campaigns.scheduler import is_time_zone, window_opening

W = (8 * 60, 21 * 60)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_inside_the_local_window_calls_now() -> None:
    now = utc(2026, 6, 10, 15, 0)  # 11:00 in New York (EDT)
    assert window_opening(now, "America/New_York", *W) == now


def test_before_the_window_waits_for_eight_local() -> None:
    now = utc(2026, 6, 10, 10, 0)  # 06:00 in New York
    assert window_opening(now, "America/New_York", *W) == utc(2026, 6, 10, 12, 0)


def test_after_the_window_waits_for_next_morning() -> None:
    now = utc(2026, 6, 11, 1, 30)  # 21:30 on June 10 in New York
    assert window_opening(now, "America/New_York", *W) == utc(2026, 6, 11, 12, 0)


def test_same_instant_differs_per_time_zone() -> None:
    now = utc(2026, 6, 10, 5, 0)  # 08:00 in Moscow, 01:00 in New York
    assert window_opening(now, "Europe/Moscow", *W) == now
    assert window_opening(now, "America/New_York", *W) == utc(2026, 6, 10, 12, 0)


def test_opening_follows_spring_forward() -> None:
    # US DST starts 2026-03-08: 08:00 local is 13:00 UTC the day before and 12:00 UTC after.
    before = window_opening(utc(2026, 3, 7, 2, 0), "America/New_York", *W)
    after = window_opening(utc(2026, 3, 8, 2, 0), "America/New_York", *W)
    assert (before, after) == (utc(2026, 3, 7, 13, 0), utc(2026, 3, 8, 12, 0))


def test_closing_follows_fall_back() -> None:
    # 2026-11-01 DST ends: 21:00 local is 02:00 UTC next day (EST); 01:30 UTC is still open.
    now = utc(2026, 11, 2, 1, 30)
    assert window_opening(now, "America/New_York", *W) == now
    assert window_opening(utc(2026, 11, 2, 2, 0), "America/New_York", *W) == utc(2026, 11, 2, 13)


def test_window_in_a_dst_gap_opens_after_the_gap() -> None:
    # 02:30 does not exist on 2026-03-08 in New York; the window opens at 03:30 EDT = 07:30 UTC.
    got = window_opening(utc(2026, 3, 8, 5, 0), "America/New_York", 150, 600)
    assert got == utc(2026, 3, 8, 7, 30)


def test_holidays_are_skipped() -> None:
    now = utc(2026, 12, 24, 22, 0)  # 17:00 on Dec 24 in New York... but Dec 24 is a holiday
    got = window_opening(now, "America/New_York", *W, holidays=("2026-12-24", "2026-12-25"))
    assert got == utc(2026, 12, 26, 13, 0)


def test_narrow_campaign_window() -> None:
    now = utc(2026, 6, 10, 15, 0)  # 11:00 New York; window 12:00-13:00
    assert window_opening(now, "America/New_York", 720, 780) == utc(2026, 6, 10, 16, 0)


def test_time_zone_names_are_checked() -> None:
    assert is_time_zone("Europe/Berlin")
    assert not is_time_zone("Mars/Olympus") and not is_time_zone("")
