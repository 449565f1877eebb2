"""Customers for lookup and greeting tests, stored in the `db` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ivr.store.db import Database
from ivr.store.domain import Customer, NewAccount, NewRequest
from ivr.store.repositories.customers import CustomerRepository

# 2026-03-10 is a Tuesday; 14:00 UTC is 10:00 in New York (EDT) and 17:00 in Moscow.
NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
ANNA_PHONE = "+15550100001"
SHARED_PHONE = "+15550100200"
OLGA_PHONE = "+79161234567"
STRANGER_PHONE = "+15550109999"


@dataclass(frozen=True)
class People:
    anna: Customer  # en, a technician visit tomorrow 10-12 New York time
    bob: Customer  # en, bill forecast over the limit
    carol: Customer  # shares SHARED_PHONE with bob
    olga: Customer  # ru, Moscow, scheduled request and bill over limit


def add_people(db: Database) -> People:
    repo = CustomerRepository(db)
    ny_tomorrow_10 = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)  # 10:00 EDT
    anna = repo.add(
        "Anna Walker", [ANNA_PHONE], time_zone="America/New_York", email="anna@example.test",
        preferred_channel="email",
        accounts=[NewAccount("A-1", Decimal("20"), Decimal("100"), Decimal("40"))],
        requests=[NewRequest("technician", "router replacement", "scheduled",
                             ny_tomorrow_10, ny_tomorrow_10 + timedelta(hours=2))],
    )  # fmt: skip
    bob = repo.add(
        "Bob Stone", [SHARED_PHONE, "+15550100002"], time_zone="America/Chicago",
        preferred_channel="sms",
        accounts=[NewAccount("B-1", Decimal("61.20"), Decimal("70"), Decimal("84.10"))],
    )  # fmt: skip
    carol = repo.add("Carol Stone", [SHARED_PHONE], time_zone="America/Chicago")
    moscow_today_15 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 15:00 MSK
    olga = repo.add(
        "Ольга Иванова", [OLGA_PHONE], language="ru", time_zone="Europe/Moscow",
        accounts=[NewAccount("O-1", Decimal("900"), Decimal("1500"), Decimal("1702"), "RUB")],
        requests=[NewRequest("technician", "замена роутера", "scheduled",
                             moscow_today_15 + timedelta(days=1),
                             moscow_today_15 + timedelta(days=1, hours=3))],
    )  # fmt: skip
    return People(anna, bob, carol, olga)


@pytest.fixture
def people(db: Database) -> People:
    return add_people(db)
