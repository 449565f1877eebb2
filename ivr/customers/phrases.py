"""Words for the greeting in English and Russian: times of day, days, clock times, money."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Accusative, after "на": "на пятницу".
WEEKDAYS_RU = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip
MONTHS_RU = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря")  # fmt: skip
# (singular, plural) in English; (1, 2-4, 5+) forms in Russian.
CURRENCY_EN = {"USD": ("dollar", "dollars"), "EUR": ("euro", "euros"),
               "RUB": ("ruble", "rubles"), "GBP": ("pound", "pounds")}  # fmt: skip
CURRENCY_RU = {"USD": ("доллар", "доллара", "долларов"), "EUR": ("евро", "евро", "евро"),
               "RUB": ("рубль", "рубля", "рублей"), "GBP": ("фунт", "фунта", "фунтов")}  # fmt: skip


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 18:
        return "afternoon"
    if 18 <= hour < 23:
        return "evening"
    return "night"


SALUTATIONS = {
    "en": {"morning": "Good morning", "afternoon": "Good afternoon", "evening": "Good evening",
           "night": "Good evening"},
    "ru": {"morning": "Доброе утро", "afternoon": "Добрый день", "evening": "Добрый вечер",
           "night": "Доброй ночи"},
}  # fmt: skip


def ru_plural(n: int, forms: tuple[str, str, str]) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def whole(amount: Decimal) -> int:
    """Money is spoken in whole units: 84.10 -> 84, 69.50 -> 70."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money(amount: int, currency: str, language: str) -> str:
    """``84 dollars`` / ``84 доллара``; unknown currencies keep their code."""
    if language == "ru":
        forms = CURRENCY_RU.get(currency)
        return f"{amount} {ru_plural(amount, forms) if forms else currency}"
    names = CURRENCY_EN.get(currency)
    return f"{amount} {(names[0] if amount == 1 else names[1]) if names else currency}"


def money_adjective(amount: int, currency: str) -> str:
    """``70-dollar`` (English compound before a noun)."""
    names = CURRENCY_EN.get(currency)
    return f"{amount}-{names[0]}" if names else f"{amount} {currency}"


def day_phrase(day: date, today: date, language: str) -> str:
    """``today``, ``tomorrow``, ``on Friday`` (this week) or ``on March 20``; Russian after "на"."""
    delta = (day - today).days
    if language == "ru":
        if delta in (0, 1):
            return ("на сегодня", "на завтра")[delta]
        if 1 < delta < 7:
            return f"на {WEEKDAYS_RU[day.weekday()]}"
        return f"на {day.day} {MONTHS_RU[day.month - 1]}"
    if delta in (0, 1):
        return ("for today", "for tomorrow")[delta]
    if 1 < delta < 7:
        return f"for {WEEKDAYS_EN[day.weekday()]}"
    return f"for {MONTHS_EN[day.month - 1]} {day.day}"


def _clock(t: datetime, twelve_hour: bool) -> str:
    hour = (t.hour % 12 or 12) if twelve_hour else t.hour
    return f"{hour}:{t.minute:02d}" if t.minute else str(hour)


def _period_en(hour: int) -> str:
    # Office hours (8-12) need no "am"; elsewhere the part of the day removes the doubt.
    if 8 <= hour < 12:
        return ""
    part = part_of_day(hour)
    return " at night" if part == "night" else f" in the {part}"


def window_phrase(start: datetime, end: datetime | None, language: str) -> str:
    """``between 10 and 12`` / ``between 2 and 4 in the afternoon``; in Russian "from 10 to 12"."""
    if language == "ru":
        if end is None:
            return f"на {start.hour}:{start.minute:02d}"
        return f"с {_clock(start, False)} до {_clock(end, False)}"  # noqa: RUF001 (Cyrillic on purpose)
    suffix = _period_en(start.hour)
    if end is None:
        return f"at {_clock(start, True)}{suffix}"
    return f"between {_clock(start, True)} and {_clock(end, True)}{suffix}"
