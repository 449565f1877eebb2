"""Caller lookup over the built-in store: known, unknown, withheld, ambiguous; the cache."""

from __future__ import annotations

from ivr.customers.crm import CallerLookup, SqlCrm
from ivr.store.db import Database
from ivr.store.domain import Customer
from tests.customers.conftest import ANNA_PHONE, SHARED_PHONE, STRANGER_PHONE, People


class Counting:
    """The real SQL adapter, counting how often it is asked."""

    def __init__(self, db: Database) -> None:
        self.inner = SqlCrm(db)
        self.calls = 0

    async def find_by_phone(self, e164: str) -> list[Customer]:
        self.calls += 1
        return await self.inner.find_by_phone(e164)


async def test_known_number_in_local_spelling_finds_the_customer(
    db: Database, people: People
) -> None:
    result = await CallerLookup(SqlCrm(db), region="US").lookup("(555) 010-0001")

    assert result.kind == "known"
    assert result.caller == ANNA_PHONE
    assert result.customer is not None
    assert result.customer.name == "Anna Walker"


async def test_number_of_nobody_is_unknown(db: Database, people: People) -> None:
    result = await CallerLookup(SqlCrm(db)).lookup(STRANGER_PHONE)

    assert (result.kind, result.caller, result.customers) == ("unknown", STRANGER_PHONE, ())


async def test_withheld_number_is_withheld_without_asking_the_crm(
    db: Database, people: People
) -> None:
    adapter = Counting(db)
    lookup = CallerLookup(adapter)

    assert (await lookup.lookup("anonymous")).kind == "withheld"
    assert (await lookup.lookup(None)).kind == "withheld"
    assert adapter.calls == 0


async def test_unreadable_number_is_unknown(db: Database, people: People) -> None:
    result = await CallerLookup(SqlCrm(db)).lookup("12")
    assert (result.kind, result.caller) == ("unknown", None)


async def test_shared_number_is_ambiguous_and_names_no_single_customer(
    db: Database, people: People
) -> None:
    result = await CallerLookup(SqlCrm(db)).lookup(SHARED_PHONE)

    assert result.kind == "ambiguous"
    assert result.customer is None
    assert {c.name for c in result.customers} == {"Bob Stone", "Carol Stone"}


async def test_second_lookup_is_served_from_the_cache(db: Database, people: People) -> None:
    adapter = Counting(db)
    lookup = CallerLookup(adapter)

    first = await lookup.lookup(ANNA_PHONE)
    second = await lookup.lookup("+1 555 010 0001")

    assert adapter.calls == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.customer == first.customer
