"""Caller-ID normalisation, the TTL cache and the circuit breaker (on a hand-driven clock)."""

from __future__ import annotations

import pytest

from ivr.customers.numbers import normalize
from ivr.customers.resilience import CircuitBreaker, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "raw", ["+1 (555) 010-0200", "5550100200", "1-555-010-0200", "+15550100200"]
)
def test_us_spellings_of_one_number_normalise_to_the_same_e164(raw: str) -> None:
    assert normalize(raw, "US").e164 == "+15550100200"


def test_default_region_decides_numbers_without_country_code() -> None:
    assert normalize("89161234567", "RU").e164 == "+79161234567"
    assert normalize("5550100200", "RU").e164 != "+15550100200"


@pytest.mark.parametrize("raw", [None, "", "  ", "anonymous", "Anonymous", "withheld", "private"])
def test_withheld_markers_are_withheld(raw: str | None) -> None:
    assert normalize(raw, "US").kind == "withheld"


@pytest.mark.parametrize("raw", ["abc", "12", "+1555", "555-CALL-NOW-PLEASE-NOW"])
def test_unreadable_numbers_are_invalid_not_withheld(raw: str) -> None:
    result = normalize(raw, "US")
    assert result.kind == "invalid"
    assert result.e164 is None


def test_cache_forgets_values_after_their_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str] = TtlCache(30.0, clock=clock)
    cache.put("k", "v")
    clock.now += 29.9
    assert cache.get("k") == "v"
    clock.now += 0.2
    assert cache.get("k") is None


def test_cache_drops_the_oldest_beyond_its_size() -> None:
    cache: TtlCache[int] = TtlCache(30.0, size=2)
    for i in range(3):
        cache.put(str(i), i)
    assert (cache.get("0"), cache.get("1"), cache.get("2")) == (None, 1, 2)


def test_zero_ttl_caches_nothing() -> None:
    cache: TtlCache[int] = TtlCache(0)
    cache.put("k", 1)
    assert cache.get("k") is None


def test_breaker_opens_after_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(threshold=3, reset_after=10, clock=Clock())
    breaker.failure()
    breaker.failure()
    breaker.success()  # a success in between resets the count
    breaker.failure()
    breaker.failure()
    assert str(breaker.state) == "closed"
    breaker.failure()
    assert str(breaker.state) == "open"
    assert breaker.allow() is False


def test_breaker_half_opens_after_reset_period_and_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=10, clock=clock)
    breaker.failure()
    clock.now += 9.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert str(breaker.state) == "half_open"
    assert breaker.allow() is True
    assert breaker.allow() is False  # one trial at a time
    breaker.success()
    assert str(breaker.state) == "closed"
    assert breaker.allow() is True


def test_failed_trial_reopens_for_a_full_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.allow() is True
    breaker.failure()
    assert str(breaker.state) == "open"
    clock.now += 9.9
    assert breaker.allow() is False
    clock.now += 0.1
    assert breaker.allow() is True


def test_abandoned_trial_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, reset_after=10, clock=clock)
    breaker.failure()
    clock.now += 10
    assert breaker.allow() is True
    breaker.abandon()
    assert breaker.allow() is True
