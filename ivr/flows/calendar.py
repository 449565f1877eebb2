"""Business hours with holidays, in the company's time zone, for `branch` conditions."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from ivr.flows.nodes.base import Model

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _days(spec: str) -> list[int]:
    """`mon-fri`, `sat`, `mon,wed` -> weekday numbers."""
    out: list[int] = []
    for part in spec.replace(" ", "").lower().split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{spec!r} is not a day or day range like mon-fri")
        a, b = DAYS.index(first), DAYS.index(last or first)
        out += list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return out


def _spans(spec: str) -> list[tuple[time, time]]:
    """`08:00-20:00` or `08:00-12:00, 13:00-17:00` -> (open, close) pairs."""
    spans = []
    for part in spec.split(","):
        m = SPAN.match(part)
        if not m or int(m[1]) > 23 or int(m[3]) > 24 or int(m[2]) > 59 or int(m[4]) > 59:
            raise ValueError(f"{spec!r} is not opening hours like 08:00-20:00")
        end = time(23, 59, 59) if int(m[3]) == 24 else time(int(m[3]), int(m[4]))
        spans.append((time(int(m[1]), int(m[2])), end))
    return spans


class Calendar(Model):
    timezone: str = "UTC"
    hours: dict[str, str] = Field(default_factory=lambda: {"mon-fri": "09:00-17:00"})
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Europe/Moscow)") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        for days, spans in value.items():
            _days(days)
            _spans(spans)
        return value

    def local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))

    def is_holiday(self, now: datetime) -> bool:
        return self.local(now).date() in self.holidays

    def is_open(self, now: datetime) -> bool:
        local = self.local(now)
        if local.date() in self.holidays:
            return False
        at = local.time().replace(tzinfo=None)
        for days, spans in self.hours.items():
            if local.weekday() in _days(days) and any(a <= at < b for a, b in _spans(spans)):
                return True
        return False
