"""CustomerRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ivr.store.db import Database
from ivr.store.domain import NewAccount, NewRequest
from ivr.store.errors import Conflict, NotFound
from ivr.store.repositories import CustomerRepository

VISIT_FROM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
VISIT_TO = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


@pytest.fixture
def customers(db: Database) -> CustomerRepository:
    return CustomerRepository(db)


def test_add_returns_customer_with_accounts_and_open_requests(
    customers: CustomerRepository,
) -> None:
    added = customers.add(
        "Maria Garcia",
        ["+15550100200", "+15550100201"],
        email="maria@example.com",
        time_zone="America/New_York",
        area="area-12",
        accounts=[NewAccount("ACC-1", Decimal("54.20"), Decimal("80.00"), Decimal("91.15"))],
        requests=[
            NewRequest("technician_visit", "Router replacement", "scheduled", VISIT_FROM, VISIT_TO),
            NewRequest("relocation", "Move service", "resolved"),
        ],
    )

    got = customers.get(added.id)
    assert got == added
    assert got.phones == ("+15550100200", "+15550100201")
    assert got.area == "area-12"
    assert got.accounts[0].balance == Decimal("54.20")
    assert got.accounts[0].over_limit is True
    assert [r.title for r in got.open_requests] == ["Router replacement"]
    assert got.open_requests[0].scheduled_from == VISIT_FROM
    assert got.open_requests[0].scheduled_to == VISIT_TO
    assert got.created_at.tzinfo is not None


def test_find_by_phone_returns_every_owner_of_a_shared_number(
    customers: CustomerRepository,
) -> None:
    maria = customers.add("Maria Garcia", ["+15550100200"])
    luis = customers.add("Luis Garcia", ["+15550100200", "+15550100202"])
    customers.add("John Carter", ["+15550100203"])

    assert [c.id for c in customers.find_by_phone("+15550100200")] == [maria.id, luis.id]
    assert [c.name for c in customers.find_by_phone("+15550100202")] == ["Luis Garcia"]
    assert customers.find_by_phone("+15559999999") == []


def test_get_unknown_customer_raises_not_found(customers: CustomerRepository) -> None:
    with pytest.raises(NotFound):
        customers.get(424242)


def test_add_refuses_phone_that_is_not_e164(customers: CustomerRepository) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        customers.add("Bad Phone", ["555-0100"])
    assert customers.count() == 0


def test_add_refuses_unknown_language(customers: CustomerRepository) -> None:
    with pytest.raises(ValueError, match="language"):
        customers.add("X", ["+15550100200"], language="fr")


def test_duplicate_account_number_is_conflict_and_adds_nothing(
    customers: CustomerRepository,
) -> None:
    customers.add("A", ["+15550100200"], accounts=[NewAccount("ACC-1", Decimal(0))])

    with pytest.raises(Conflict):
        customers.add("B", ["+15550100201"], accounts=[NewAccount("ACC-1", Decimal(0))])

    assert customers.count() == 1
    assert customers.find_by_phone("+15550100201") == []


def test_search_matches_name_case_insensitively_including_cyrillic(
    customers: CustomerRepository,
) -> None:
    ivan = customers.add("Иван Петров", ["+79161234567"], language="ru")
    customers.add("John Carter", ["+15550100203"], email="JOHN@example.com")

    assert [c.id for c in customers.search("ИВАН")] == [ivan.id]
    assert [c.name for c in customers.search("carter")] == ["John Carter"]
    assert [c.name for c in customers.search("john@EXAMPLE")] == ["John Carter"]


def test_search_matches_phone_and_account_number_and_respects_limit(
    customers: CustomerRepository,
) -> None:
    customers.add("A One", ["+15550100001"], accounts=[NewAccount("ACC-77", Decimal(1))])
    customers.add("B Two", ["+15550100002"])
    customers.add("C Three", ["+15550100003"])

    assert [c.name for c in customers.search("ACC-77")] == ["A One"]
    assert [c.name for c in customers.search("0100002")] == ["B Two"]
    assert [c.name for c in customers.search("+1555", limit=2)] == ["A One", "B Two"]
    assert customers.search("   ") == []


def test_search_treats_like_wildcards_literally(customers: CustomerRepository) -> None:
    customers.add("Percent Person", ["+15550100001"])

    assert customers.search("%") == []
    assert customers.search("_") == []


def test_add_account_and_request_then_close_request(customers: CustomerRepository) -> None:
    c = customers.add("A", ["+15550100001"])

    account = customers.add_account(
        c.id, NewAccount("ACC-9", Decimal("10.50"), Decimal("20"), Decimal("5"), "RUB")
    )
    request = customers.add_request(c.id, NewRequest("billing_dispute", "Dispute", "in_review"))

    got = customers.get(c.id)
    assert got.accounts == (account,)
    assert account.over_limit is False
    assert got.open_requests == (request,)
    closed = customers.set_request_status(request.id, "resolved")
    assert closed.is_open is False
    assert customers.get(c.id).open_requests == ()
    assert [r.status for r in customers.requests(c.id)] == ["resolved"]
    assert customers.requests(c.id, include_closed=False) == []


def test_add_account_to_unknown_customer_raises_not_found(customers: CustomerRepository) -> None:
    with pytest.raises(NotFound):
        customers.add_account(999, NewAccount("ACC-1", Decimal(0)))
    with pytest.raises(NotFound):
        customers.add_request(999, NewRequest("k", "t"))
    with pytest.raises(NotFound):
        customers.set_request_status(999, "resolved")


def test_add_account_with_duplicate_number_is_conflict(customers: CustomerRepository) -> None:
    c = customers.add("A", ["+15550100001"], accounts=[NewAccount("ACC-1", Decimal(0))])

    with pytest.raises(Conflict):
        customers.add_account(c.id, NewAccount("ACC-1", Decimal(0)))


def test_account_without_limit_or_forecast_is_never_over_limit(
    customers: CustomerRepository,
) -> None:
    c = customers.add("A", ["+15550100001"], accounts=[NewAccount("ACC-1", Decimal("5"))])

    assert c.accounts[0].bill_limit is None
    assert c.accounts[0].over_limit is False


def test_page_lists_customers_in_creation_order(customers: CustomerRepository) -> None:
    for i in range(5):
        customers.add(f"C{i}", [f"+1555010000{i}"])

    assert [c.name for c in customers.page(limit=2)] == ["C0", "C1"]
    assert [c.name for c in customers.page(limit=2, offset=3)] == ["C3", "C4"]
    assert customers.count() == 5
