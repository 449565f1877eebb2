"""Who is calling: CRM adapters behind one interface, and the budgeted, cached lookup.

A flow node calls ``await lookup.lookup(caller_id)`` and always gets a LookupResult within the
budget: a slow or dead CRM yields ``unavailable`` (generic greeting), never dead air.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal, Protocol

from ivr.customers.errors import CrmError
from ivr.customers.numbers import normalize
from ivr.customers.resilience import CircuitBreaker, TtlCache
from ivr.store.db import Database
from ivr.store.domain import Customer
from ivr.store.errors import DatabaseUnreachable
from ivr.store.repositories.customers import CustomerRepository

log = logging.getLogger(__name__)

LookupKind = Literal["known", "unknown", "withheld", "ambiguous", "unavailable"]
DEFAULT_BUDGET_MS = 300


class CrmAdapter(Protocol):
    """A source of customers. Raise CrmError when it cannot answer (never return [] then)."""

    async def find_by_phone(self, e164: str) -> list[Customer]: ...


@dataclass(frozen=True, slots=True)
class LookupResult:
    """``known``: exactly one customer; ``ambiguous``: several share the number (speak no name,
    ask the caller to identify); ``unknown``: nobody or an unreadable number; ``withheld``: no
    number presented; ``unavailable``: the CRM did not answer within the budget."""

    kind: LookupKind
    caller: str | None = None  # the E.164 number, when there was one
    customers: tuple[Customer, ...] = ()
    cached: bool = False

    @property
    def customer(self) -> Customer | None:
        return self.customers[0] if self.kind == "known" else None


class SqlCrm:
    """The built-in store (customers/accounts/requests tables)."""

    def __init__(self, db: Database) -> None:
        self._customers = CustomerRepository(db)

    async def find_by_phone(self, e164: str) -> list[Customer]:
        try:
            return await asyncio.to_thread(self._customers.find_by_phone, e164)
        except DatabaseUnreachable as err:  # the store is this CRM: down like any other
            raise CrmError(str(err)) from err


def classify(caller: str, customers: list[Customer]) -> LookupResult:
    if not customers:
        return LookupResult("unknown", caller)
    kind: LookupKind = "known" if len(customers) == 1 else "ambiguous"
    return LookupResult(kind, caller, tuple(customers))


class CallerLookup:
    """Normalise, consult the cache, the breaker, then the adapter under a hard time budget."""

    def __init__(
        self,
        adapter: CrmAdapter,
        *,
        region: str = "US",
        budget_ms: int = DEFAULT_BUDGET_MS,
        cache: TtlCache[LookupResult] | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._adapter = adapter
        self._region = region
        self._budget = budget_ms / 1000
        self.cache: TtlCache[LookupResult] = cache if cache is not None else TtlCache(30.0)
        self.breaker = breaker if breaker is not None else CircuitBreaker()

    async def lookup(self, caller_id: str | None) -> LookupResult:
        number = normalize(caller_id, self._region)
        if number.kind == "withheld":
            return LookupResult("withheld")
        if number.e164 is None:
            return LookupResult("unknown")
        hit = self.cache.get(number.e164)
        if hit is not None:
            return LookupResult(hit.kind, hit.caller, hit.customers, cached=True)
        if not self.breaker.allow():
            return LookupResult("unavailable", number.e164)
        result = await self._ask(number.e164)
        if result.kind != "unavailable":
            self.cache.put(number.e164, result)
        return result

    async def _ask(self, e164: str) -> LookupResult:
        try:
            async with asyncio.timeout(self._budget):
                customers = await self._adapter.find_by_phone(e164)
        except asyncio.CancelledError:
            self.breaker.abandon()  # the caller hung up: no verdict on the CRM
            raise
        except TimeoutError:
            log.warning("CRM lookup exceeded its %.0f ms budget", self._budget * 1000)
        except CrmError as err:
            log.warning("CRM lookup failed: %s", err)
        else:
            self.breaker.success()
            return classify(e164, customers)
        self.breaker.failure()
        return LookupResult("unavailable", e164)
