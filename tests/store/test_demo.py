"""The demo company loads on both engines, is believable and loads only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ivr.store.db import Database, upgrade
from ivr.store.demo import OUTAGE_AREA, SHARED_PHONE, load_demo
from ivr.store.repositories import CustomerRepository, InteractionRepository

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_demo_loads_fifty_customers_once(db: Database) -> None:
    first = load_demo(db, now=NOW)
    second = load_demo(db, now=NOW)

    customers = CustomerRepository(db)
    assert (first.created, first.skipped) == (50, 0)
    assert (second.created, second.skipped, second.interactions) == (0, 50, 0)
    assert customers.count() == 50
    assert first.interactions > 0


def test_demo_has_an_ambiguous_shared_number(db: Database) -> None:
    summary = load_demo(db, now=NOW)

    owners = CustomerRepository(db).find_by_phone(SHARED_PHONE)
    assert summary.shared_phone_customers == 2
    assert sorted(c.name for c in owners) == ["Luis Garcia", "Maria Garcia"]


def test_demo_accounts_are_over_and_under_their_limits(db: Database) -> None:
    summary = load_demo(db, now=NOW)

    accounts = [a for c in CustomerRepository(db).page(limit=100) for a in c.accounts]
    over = [a for a in accounts if a.over_limit]
    under = [a for a in accounts if a.bill_limit is not None and not a.over_limit]
    assert len(accounts) == 50
    assert len(over) == summary.over_limit_accounts > 0
    assert under


def test_demo_schedules_router_replacement_tomorrow_ten_to_noon_local(db: Database) -> None:
    load_demo(db, now=NOW)

    (maria,) = CustomerRepository(db).search("Maria Garcia")
    (visit,) = [r for r in maria.open_requests if r.title == "Router replacement"]
    zone = ZoneInfo(maria.time_zone)
    assert visit.scheduled_from is not None and visit.scheduled_to is not None
    start, end = visit.scheduled_from.astimezone(zone), visit.scheduled_to.astimezone(zone)
    assert start.date() == NOW.astimezone(zone).date() + timedelta(days=1)
    assert (start.hour, end.hour) == (10, 12)


def test_demo_has_outage_area_russian_speakers_and_history(db: Database) -> None:
    summary = load_demo(db, now=NOW)

    customers = CustomerRepository(db).page(limit=100)
    in_outage = [c for c in customers if c.area == OUTAGE_AREA]
    russian = [c for c in customers if c.language == "ru"]
    assert len(in_outage) == summary.outage_customers >= 2
    assert russian and all(p.startswith("+7") for c in russian for p in c.phones)
    assert {c.time_zone for c in customers} >= {"America/New_York", "Europe/Moscow"}
    (maria,) = CustomerRepository(db).search("Maria Garcia")
    assert InteractionRepository(db).journey(maria.id)[0].intent == "technical_support"


def _snapshot(url: str) -> list[tuple[object, ...]]:
    database = Database(url)
    try:
        load_demo(database, now=NOW)
        return [
            (c.name, c.phones, c.area, c.time_zone, c.accounts[0].number, c.accounts[0].forecast)
            for c in CustomerRepository(database).page(limit=100)
        ]
    finally:
        database.dispose()


def test_demo_is_deterministic(sqlite_url: str, tmp_path: Path) -> None:
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(other_url)

    first, second = _snapshot(sqlite_url), _snapshot(other_url)

    assert len(first) == 50
    assert first == second
