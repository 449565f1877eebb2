"""The safe condition language, the business-hours calendar and entry normalisation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ivr.flows.calendar import Calendar
from ivr.flows.expr import ExprError, compile_condition
from ivr.flows.nodes.gather import normalize
from ivr.flows.text import placeholders, render

DATA = {
    "customer": {"segment": "business", "name": "Ada"},
    "caller": {"number": "+15550100001"},
    "time": "18:30",
    "weekday": "sat",
    "attempts": "3",
    "vip": "no",
    "business_hours": False,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("customer.segment == 'business'", True),
        ("customer.segment != 'business'", False),
        ("customer.segment == 'BUSINESS'", True),
        ("time >= 18:00 and weekday in ['sat', 'sun']", True),
        ("time < 9:00 or time >= 20:00", False),
        ("attempts > 2", True),
        ("attempts > 10", False),
        ("not business_hours", True),
        ("vip", False),
        ("missing", False),
        ("not customer", False),
        ("weekday not in ['mon', 'tue']", True),
        ("(attempts >= 3 or vip) and not (time < 12:00)", True),
        ("caller.number == '+15550100001'", True),
    ],
)
def test_condition_evaluates(source: str, expected: bool) -> None:
    assert compile_condition(source).evaluate(DATA) is expected


@pytest.mark.parametrize(
    "source", ["x ==", "a b", "__import__('os')", "x = 1", "(a", "[1, 2", "a.b.", "1 +"]
)
def test_malformed_conditions_are_refused_without_running_anything(source: str) -> None:
    with pytest.raises(ExprError):
        compile_condition(source)


def test_condition_names_are_listed_for_the_validator() -> None:
    assert compile_condition("customer.segment == 'x' or attempts > 2").names() == [
        "attempts", "customer.segment",
    ]  # fmt: skip


def test_calendar_open_hours_weekends_and_holidays_in_its_time_zone() -> None:
    cal = Calendar(
        timezone="Europe/Moscow",
        hours={"mon-fri": "09:00-18:00", "sat": "10:00-14:00"},
        holidays=[date(2027, 1, 7)],
    )
    assert cal.is_open(datetime(2026, 11, 25, 6, 0, tzinfo=UTC))  # Wed 09:00 Moscow
    assert not cal.is_open(datetime(2026, 11, 25, 5, 59, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # 18:00 closes
    assert cal.is_open(datetime(2026, 11, 28, 8, 0, tzinfo=UTC))  # Sat 11:00
    assert not cal.is_open(datetime(2026, 11, 29, 8, 0, tzinfo=UTC))  # Sunday
    assert not cal.is_open(datetime(2027, 1, 7, 8, 0, tzinfo=UTC))  # holiday (Thursday)
    assert cal.is_holiday(datetime(2027, 1, 7, 8, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    "hours", [{"funday": "09:00-17:00"}, {"mon": "9-17"}, {"mon": "25:00-26:00"}]
)
def test_calendar_refuses_malformed_hours(hours: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="like"):
        Calendar(hours=hours)


@pytest.mark.parametrize(
    ("kind", "digits", "value"),
    [
        ("amount", "125*5", "125.50"),
        ("amount", "40", "40.00"),
        ("amount", "1*234", None),
        ("date", "25122026", "2026-12-25"),
        ("date", "31022026", None),
        ("account", "00123", "00123"),
        ("digits", "12*", None),
    ],
)
def test_gathered_entries_are_normalised_or_refused(
    kind: str, digits: str, value: str | None
) -> None:
    assert normalize(kind, digits) == value  # type: ignore[arg-type]


def test_placeholders_fill_from_nested_data_and_unset_ones_say_nothing() -> None:
    text = "Hello {customer.name}, {greeting} {unknown}!"
    assert placeholders(text) == ["customer.name", "greeting", "unknown"]
    assert render(text, {"customer": {"name": "Ada"}, "greeting": "hi"}) == "Hello Ada, hi !"
