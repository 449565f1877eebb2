"""Spoken numbers to digit strings: "oh", "double five", "triple seven", Russian digits.

Codes and account numbers are read digit by digit, so each number word maps to its digits
("twelve" -> "12", "двадцать" -> "20"); "double"/"triple" repeat the next digit.
"""

from __future__ import annotations

import re

EN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
EN_NUMBERS = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "seventy": "70", "eighty": "80", "ninety": "90",
}  # fmt: skip
RU_DIGITS = {
    "ноль": "0", "нуль": "0", "один": "1", "одна": "1", "два": "2", "две": "2", "три": "3",
    "четыре": "4", "пять": "5", "шесть": "6", "семь": "7", "восемь": "8", "девять": "9",
}  # fmt: skip
RU_NUMBERS = {
    "десять": "10", "одиннадцать": "11", "двенадцать": "12", "тринадцать": "13",
    "четырнадцать": "14", "пятнадцать": "15", "шестнадцать": "16", "семнадцать": "17",
    "восемнадцать": "18", "девятнадцать": "19", "двадцать": "20", "тридцать": "30",
    "сорок": "40", "пятьдесят": "50", "шестьдесят": "60", "семьдесят": "70",
    "восемьдесят": "80", "девяносто": "90",
}  # fmt: skip
REPEAT = {"double": 2, "triple": 3}
YO, YE = "\u0451", "\u0435"  # Russian yo is written as ye in recognizer output
DIGIT_WORDS = {"en": EN_DIGITS, "ru": RU_DIGITS}
ALL_WORDS = {**EN_DIGITS, **EN_NUMBERS, **RU_DIGITS, **RU_NUMBERS}
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def grammar_words(language: str) -> list[str]:
    """The vocabulary of digits mode for a recognizer grammar (no "oh": it pulls digits to 0)."""
    if language == "ru":
        return sorted(set(RU_DIGITS))
    return [w for w in EN_DIGITS if w not in ("oh", "o")] + list(REPEAT)


def to_digits(text: str) -> str:
    """Digits said in `text`, in order; words that are not numbers are skipped."""
    out: list[str] = []
    repeat = 1
    for token in _TOKEN.findall(text.lower().replace(YO, YE)):
        if token in REPEAT:
            repeat = REPEAT[token]
            continue
        value = token if token.isdigit() else ALL_WORDS.get(token)
        if value is None:
            repeat = 1
            continue
        # "twenty one" is 21, not "201": a tens word joins the unit that follows it
        joins = out and _is_tens(out[-1]) and len(value) == 1 and value != "0" and repeat == 1
        if joins:
            out[-1] = out[-1][0] + value
        else:
            out.append(value * repeat if len(value) == 1 else value)
        repeat = 1
    return "".join(out)


def _is_tens(value: str) -> bool:
    return len(value) == 2 and value.endswith("0") and value != "10"


def complete(digits: str, expected: int | None) -> bool:
    """The expected length ends input as soon as it is reached."""
    return expected is not None and len(digits) >= expected
