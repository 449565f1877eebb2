"""Greeting texts for every kind of caller, in English and Russian (pure: no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ivr.customers.crm import LookupResult
from ivr.customers.greeting import build_greeting
from ivr.store.domain import Account, Customer, Interaction, ServiceRequest
from tests.customers.conftest import NOW

BASE = Customer(
    id=1, name="Anna Walker", phones=("+15550100001",), language="en", segment="standard",
    preferred_channel="voice", email=None, time_zone="America/New_York", area=None,
    created_at=NOW,
)  # fmt: skip


def request(title: str, start: datetime | None, hours: int = 2, status: str = "scheduled") -> (
    ServiceRequest
):
    end = None if start is None else start + timedelta(hours=hours)
    return ServiceRequest(1, 1, "technician", title, status, start, end, NOW)


def account(forecast: str, limit: str, currency: str = "USD") -> Account:
    return Account(1, 1, "A-1", Decimal(0), Decimal(limit), Decimal(forecast), currency)


def contact(intent: str | None, days_ago: float, channel: str = "voice") -> Interaction:
    at = NOW - timedelta(days=days_ago)
    return Interaction(1, 1, "+15550100001", channel, at, at, None, None, intent, "done")


def known(customer: Customer) -> LookupResult:
    return LookupResult("known", customer.phones[0], (customer,))


def test_known_caller_hears_time_of_day_name_and_scheduled_request() -> None:
    anna = replace(BASE, open_requests=(request("router replacement", NOW + timedelta(days=1)),))

    greeting = build_greeting(known(anna), NOW)

    assert greeting.kind == "personal"
    assert greeting.text == (
        "Good morning, Anna. "
        "Your request 'router replacement' is scheduled for tomorrow between 10 and 12."
    )
    assert greeting.item is not None
    assert greeting.item.kind == "scheduled_request"


def test_bill_forecast_over_limit_is_announced_in_whole_dollars() -> None:
    bob = replace(BASE, name="Bob Stone", accounts=(account("84.10", "70"),))

    greeting = build_greeting(known(bob), NOW + timedelta(hours=6))  # 16:00 in New York

    assert greeting.text == (
        "Good afternoon, Bob. "
        "Your bill this month is forecast at 84 dollars, over your 70-dollar limit."
    )


def test_scheduled_request_outranks_the_bill_and_past_windows_are_ignored() -> None:
    anna = replace(
        BASE,
        accounts=(account("90", "70"),),
        open_requests=(
            request("old visit", NOW - timedelta(days=1)),
            request("modem swap", NOW + timedelta(days=3, hours=4)),  # Friday 14:00 local
        ),
    )
    greeting = build_greeting(known(anna), NOW)

    assert greeting.item is not None
    assert greeting.item.text == (
        "Your request 'modem swap' is scheduled for Friday between 2 and 4 in the afternoon."
    )


def test_open_request_without_a_date_is_mentioned_when_nothing_else_is() -> None:
    anna = replace(BASE, open_requests=(request("billing dispute", None, status="open"),))
    assert build_greeting(known(anna), NOW).item is not None
    assert "Your request 'billing dispute' is in progress." in build_greeting(known(anna), NOW).text


def test_nothing_open_means_just_the_salutation() -> None:
    evening = NOW + timedelta(hours=9)  # 19:00 in New York
    assert build_greeting(known(BASE), evening).text == "Good evening, Anna."


def test_repeat_contact_in_the_last_seven_days_is_offered_on_any_channel() -> None:
    recent = [contact("billing", 5), contact("router", 2, channel="chat")]

    greeting = build_greeting(known(BASE), NOW, recent=recent)

    assert greeting.offer is not None
    assert (greeting.offer.intent, greeting.offer.channel) == ("router", "chat")
    assert greeting.text == "Good morning, Anna. Are you calling about your router again?"


def test_contacts_older_than_seven_days_or_without_intent_are_not_offered() -> None:
    recent = [contact("router", 7.5), contact(None, 1)]
    assert build_greeting(known(BASE), NOW, recent=recent).offer is None


def test_unknown_intent_is_spoken_as_words() -> None:
    greeting = build_greeting(known(BASE), NOW, recent=[contact("tv_package", 1)])
    assert greeting.offer is not None
    assert greeting.offer.text == "Are you calling about your tv package again?"


OLGA = replace(
    BASE, id=4, name="Ольга Иванова", language="ru", time_zone="Europe/Moscow",
    phones=("+79161234567",),
)  # fmt: skip


def test_russian_customer_hears_russian_with_the_request_window() -> None:
    start = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
    olga = replace(OLGA, open_requests=(request("замена роутера", start, hours=3),))

    greeting = build_greeting(known(olga), NOW)  # 17:00 in Moscow

    assert greeting.language == "ru"
    assert greeting.text == (
        "Добрый день, Ольга! Ваша заявка «замена роутера» запланирована на завтра с 15 до 18."  # noqa: RUF001
    )


def test_russian_bill_over_limit_uses_the_right_plural() -> None:
    olga = replace(OLGA, accounts=(account("1702", "1500", "RUB"),))
    morning = NOW - timedelta(hours=8)  # 09:00 in Moscow

    assert build_greeting(known(olga), morning).text == (
        "Доброе утро, Ольга! По прогнозу ваш счёт за этот месяц составит 1702 рубля"
        " — это больше вашего лимита в 1500 рублей."
    )


def test_russian_repeat_offer() -> None:
    greeting = build_greeting(known(OLGA), NOW, recent=[contact("router", 1, "sms")])
    assert greeting.offer is not None
    assert greeting.offer.text == "Вы снова звоните по поводу роутера?"
    other = build_greeting(known(OLGA), NOW, recent=[contact("tv_package", 1)])
    assert other.offer is not None
    assert other.offer.text == "Вы звоните по тому же вопросу, что и в прошлый раз?"


@pytest.mark.parametrize("kind", ["unknown", "withheld", "unavailable"])
def test_unrecognised_callers_get_the_generic_greeting(kind: str) -> None:
    result = LookupResult(kind)  # type: ignore[arg-type]

    en = build_greeting(result, NOW, language="en", zone="America/New_York")
    ru = build_greeting(result, NOW, language="ru", zone="Europe/Moscow")

    assert (en.kind, en.customer_id, en.item, en.offer) == ("generic", None, None, None)
    assert en.text == "Good morning, and thank you for calling."
    assert ru.text == "Добрый день! Спасибо за звонок."


def test_ambiguous_caller_hears_no_name_and_is_asked_to_identify() -> None:
    bob = replace(BASE, id=2, name="Bob Stone", accounts=(account("90", "70"),))
    carol = replace(BASE, id=3, name="Carol Stone")
    result = LookupResult("ambiguous", "+15550100200", (bob, carol))

    greeting = build_greeting(result, NOW, zone="America/New_York")

    assert greeting.kind == "ambiguous"
    assert "Bob" not in greeting.text and "Carol" not in greeting.text
    assert greeting.item is None
    assert greeting.text == (
        "Good morning, and thank you for calling. "
        "Several accounts use this number, so we will ask you to identify yourself."
    )
    ru = build_greeting(LookupResult("ambiguous", "+7", (OLGA, replace(OLGA, id=5))), NOW)
    assert ru.language == "ru"
    assert ru.text.startswith("Добрый день! Спасибо за звонок. Этот номер привязан")


def test_bad_time_zone_falls_back_to_utc() -> None:
    lost = replace(BASE, time_zone="Mars/Olympus")
    assert build_greeting(known(lost), NOW).salutation == "Good afternoon, Anna."
