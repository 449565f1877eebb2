"""Amounts, dates and digit strings written the way they should be heard, per language.

espeak-ng reads "12.50" as "twelve point five zero" and "2024-03-05" as a number; callers
expect "twelve dollars and fifty cents" and "March fifth".
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from ivr.speech.digits import EN_DIGITS, RU_DIGITS

EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
RU_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
             "сентября", "октября", "ноября", "декабря")
EN_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
               "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
               "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth")
RU_ORDINALS_GEN = ("первого", "второго", "третьего", "четвёртого", "пятого", "шестого",
                   "седьмого", "восьмого", "девятого", "десятого", "одиннадцатого",
                   "двенадцатого", "тринадцатого", "четырнадцатого", "пятнадцатого",
                   "шестнадцатого", "семнадцатого", "восемнадцатого", "девятнадцатого",
                   "двадцатого")
RU_TENS_GEN = {20: "двадцать", 30: "тридцать"}
# (one, few, many) forms; English uses the first two as singular/plural
CURRENCIES = {
    "USD": {"en": (("dollar", "dollars"), ("cent", "cents")),
            "ru": (("доллар", "доллара", "долларов"), ("цент", "цента", "центов"))},
    "EUR": {"en": (("euro", "euros"), ("cent", "cents")),
            "ru": (("евро", "евро", "евро"), ("цент", "цента", "центов"))},
    "RUB": {"en": (("ruble", "rubles"), ("kopeck", "kopecks")),
            "ru": (("рубль", "рубля", "рублей"), ("копейка", "копейки", "копеек"))},
}


def digits(text: str, language: str = "en") -> str:
    """"0451" -> "zero four five one": codes are read digit by digit, never as a number."""
    names = {v: k for k, v in (RU_DIGITS if language == "ru" else EN_DIGITS).items()
             if k not in ("oh", "o", "нуль", "одна", "две")}
    return ", ".join(names[c] for c in text if c in names)


def ru_plural(n: int, forms: tuple[str, ...]) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def amount(value: Decimal | float | str, currency: str = "USD", language: str = "en") -> str:
    """12.5 USD -> "12 dollars and 50 cents" (espeak-ng reads whole numbers well)."""
    cents_total = int((Decimal(str(value)) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    sign = "minus " if cents_total < 0 and language == "en" else "минус " if cents_total < 0 else ""
    whole, cents = divmod(abs(cents_total), 100)
    forms = CURRENCIES.get(currency.upper(), CURRENCIES["USD"])
    major, minor = forms["ru" if language == "ru" else "en"]
    if language == "ru":
        text = f"{whole} {ru_plural(whole, major)}"
        return sign + (f"{text} {cents} {ru_plural(cents, minor)}" if cents else text)
    text = f"{whole} {major[0] if whole == 1 else major[1]}"
    return sign + (f"{text} and {cents} {minor[0] if cents == 1 else minor[1]}" if cents else text)


def date(day: dt.date, language: str = "en", *, with_year: bool = False) -> str:
    if language == "ru":
        text = f"{_ru_day(day.day)} {RU_MONTHS[day.month - 1]}"
        return f"{text} {day.year} года" if with_year else text
    text = f"{EN_MONTHS[day.month - 1]} {_en_ordinal(day.day)}"
    return f"{text}, {day.year}" if with_year else text


def _en_ordinal(n: int) -> str:
    if n <= 20:
        return EN_ORDINALS[n - 1]
    tens = {2: "twenty", 3: "thirty"}[n // 10]
    return f"{tens}-{EN_ORDINALS[n % 10 - 1]}" if n % 10 else f"{tens[:-1]}ieth"


def _ru_day(n: int) -> str:
    if n <= 20:
        return RU_ORDINALS_GEN[n - 1]
    if n == 30:
        return "тридцатого"
    return f"{RU_TENS_GEN[n // 10 * 10]} {RU_ORDINALS_GEN[n % 10 - 1]}"
