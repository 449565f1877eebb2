"""Number words, grammars and the way amounts, dates and codes are spoken."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ivr.speech import spoken
from ivr.speech.digits import complete, to_digits
from ivr.speech.errors import GrammarError
from ivr.speech.grammar import Grammar


@pytest.mark.parametrize(("said", "digits"), [
    ("one two three", "123"),
    ("Oh, seven. Nine!", "079"),
    ("double five one", "551"),
    ("triple seven four", "7774"),
    ("twenty one", "21"),
    ("forty double two", "4022"),
    ("my code is 4 5 6", "456"),
    ("ноль семь восемь", "078"),
    ("двадцать три", "23"),
    ("пять четыре два", "542"),
    ("billing", ""),
])  # fmt: skip
def test_number_words_become_digit_strings(said: str, digits: str) -> None:
    assert to_digits(said) == digits


def test_expected_length_completes_input() -> None:
    assert complete("123456", 6) and not complete("12345", 6) and not complete("1", None)


def test_menu_grammar_maps_phrases_and_synonyms_to_the_choice() -> None:
    grammar = Grammar.from_choices({"1": ["billing", "pay a bill"], "2": ["support"]})
    assert grammar.match("Billing.") == "1"
    assert grammar.match("I want to pay a bill please") == "1"
    assert grammar.match("SUPPORT") == "2"
    assert grammar.match("sales") is None
    assert sorted(grammar.vocabulary()) == ["billing", "pay a bill", "support"]


def test_yes_no_grammar_per_language() -> None:
    assert Grammar.yesno("en").match("yeah") == "yes"
    assert Grammar.yesno("ru").match("нет") == "no"


def test_cli_grammar_specs() -> None:
    assert Grammar.parse("digits").kind == "digits"
    assert Grammar.parse(None).kind == "free"
    assert Grammar.parse("go,stop").match("stop") == "stop"
    with pytest.raises(GrammarError):
        Grammar.parse(" , ")


def test_amounts_are_spoken_with_currency_words() -> None:
    assert spoken.amount(Decimal("12.50")) == "12 dollars and 50 cents"
    assert spoken.amount("1.01", "USD") == "1 dollar and 1 cent"
    assert spoken.amount(3, "RUB", "ru") == "3 рубля"
    assert spoken.amount("25.11", "RUB", "ru") == "25 рублей 11 копеек"


def test_dates_are_spoken_with_ordinal_days() -> None:
    assert spoken.date(dt.date(2026, 3, 23)) == "March twenty-third"
    assert spoken.date(dt.date(2026, 1, 1), with_year=True) == "January first, 2026"
    assert spoken.date(dt.date(2026, 5, 2), "ru") == "второго мая"


def test_codes_are_read_digit_by_digit() -> None:
    assert spoken.digits("0451") == "zero, four, five, one"
    assert spoken.digits("12", "ru") == "один, два"
