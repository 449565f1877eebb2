"""A short TTL cache and a circuit breaker, both on an injectable monotonic clock."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

Clock = Callable[[], float]
V = TypeVar("V")
BreakerState = Literal["closed", "open", "half_open"]


class TtlCache(Generic[V]):
    """Values expire ``ttl`` seconds after they are put; the oldest go first beyond ``size``."""

    def __init__(self, ttl: float, size: int = 10_000, clock: Clock = time.monotonic) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if self._clock() >= expires:
            del self._items[key]
            return None
        return value

    def put(self, key: str, value: V) -> None:
        if self._ttl <= 0:
            return
        self._items[key] = (self._clock() + self._ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``reset_after`` seconds one trial
    call is let through (half-open): its success closes the breaker, its failure re-opens it.

    While open, callers skip the CRM at once, so a dead CRM costs no budget at all.
    """

    def __init__(
        self, threshold: int = 5, reset_after: float = 30.0, clock: Clock = time.monotonic
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self._threshold = threshold
        self._reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset_after:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial at a time."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial_running:
            return False
        self._trial_running = True
        return True

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def abandon(self) -> None:
        """The call was cancelled before it could tell (caller hung up): free the trial slot."""
        self._trial_running = False

    def failure(self) -> None:
        self._trial_running = False
        if self._opened_at is not None:
            self._opened_at = self._clock()  # the trial failed: stay open for another period
            return
        self._failures += 1
        if self._failures >= self._threshold:
            self._opened_at = self._clock()
