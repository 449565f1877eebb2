"""When a contact may be called: the calling window in the contact's own time zone, holidays.

Works on instants: the window's opening and closing are built as local wall times of each day
and converted to UTC, so a DST change moves them with the clock (tests use fixed clocks).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.store.domain import Campaign, CampaignContact

SEARCH_DAYS = 400  # a year of holidays cannot block every day; give up after this


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_time_zone(name: str) -> bool:
    return bool(name) and zone(name) is not None


def _local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    if minutes >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)


def window_opening(now: datetime, tz_name: str, start: int, end: int,
                   holidays: tuple[str, ...] = ()) -> datetime:
    """`now` if the local time is inside [start, end) on a working day, else the next opening."""
    tz = zone(tz_name) or ZoneInfo("UTC")
    today = now.astimezone(tz).date()
    skip = set(holidays)
    for offset in range(-1, SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if day.isoformat() in skip:
            continue
        opens = _local(day, start, tz).astimezone(UTC)
        closes = _local(day, end, tz).astimezone(UTC)
        if now < opens:
            return opens
        if now < closes:
            return now
    raise ValueError(f"no calling day in the next {SEARCH_DAYS} days (holidays?)")


def contact_window(campaign: Campaign, contact: CampaignContact, now: datetime) -> datetime:
    """The dialer's WindowPolicy."""
    return first_call(campaign, contact.time_zone, now)


def first_call(campaign: Campaign, tz_name: str, now: datetime) -> datetime:
    return window_opening(now, tz_name or campaign.default_time_zone, campaign.window_start,
                          campaign.window_end, campaign.holidays)
