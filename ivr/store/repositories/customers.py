"""Customers with their phones, accounts and open service requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ivr.store.db import Database
from ivr.store.domain import (
    CLOSED_REQUEST_STATUSES,
    Account,
    Customer,
    NewAccount,
    NewRequest,
    ServiceRequest,
    check_aware,
    check_e164,
)
from ivr.store.errors import Conflict, NotFound
from ivr.store.models import (
    LANGUAGES,
    PREFERRED_CHANNELS,
    AccountRow,
    CustomerRow,
    PhoneRow,
    RequestRow,
    now_utc,
)

_LOAD = (
    selectinload(CustomerRow.phones),
    selectinload(CustomerRow.accounts),
    selectinload(CustomerRow.requests),
)


def _account(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        customer_id=row.customer_id,
        number=row.number,
        balance=row.balance,
        bill_limit=row.bill_limit,
        forecast=row.forecast,
        currency=row.currency,
    )


def _request(row: RequestRow) -> ServiceRequest:
    return ServiceRequest(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        title=row.title,
        status=row.status,
        scheduled_from=row.scheduled_from,
        scheduled_to=row.scheduled_to,
        updated_at=row.updated_at,
    )


def _customer(row: CustomerRow) -> Customer:
    return Customer(
        id=row.id,
        name=row.name,
        phones=tuple(p.phone for p in row.phones),
        language=row.language,
        segment=row.segment,
        preferred_channel=row.preferred_channel,
        email=row.email,
        time_zone=row.time_zone,
        area=row.area,
        created_at=row.created_at,
        accounts=tuple(_account(a) for a in row.accounts),
        open_requests=tuple(
            _request(r) for r in row.requests if r.status not in CLOSED_REQUEST_STATUSES
        ),
    )


def _account_row(spec: NewAccount) -> AccountRow:
    return AccountRow(
        number=spec.number,
        balance=spec.balance,
        bill_limit=spec.bill_limit,
        forecast=spec.forecast,
        currency=spec.currency,
    )


def _request_row(spec: NewRequest) -> RequestRow:
    return RequestRow(
        kind=spec.kind,
        title=spec.title,
        status=spec.status,
        scheduled_from=spec.scheduled_from,
        scheduled_to=spec.scheduled_to,
        updated_at=now_utc(),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CustomerRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def find_by_phone(self, e164: str) -> list[Customer]:
        """Every customer owning this number (several means the caller is ambiguous)."""
        owners = select(PhoneRow.customer_id).where(PhoneRow.phone == e164)
        query = select(CustomerRow).where(CustomerRow.id.in_(owners)).order_by(CustomerRow.id)
        return self._many(query)

    def get(self, customer_id: int) -> Customer:
        with self._db.session() as s:
            return _customer(self._row(s, customer_id))

    def search(self, text: str, limit: int = 20) -> list[Customer]:
        """Customers whose name, e-mail, phone or account number contains ``text``."""
        needle = text.strip()
        if not needle:
            return []
        pattern = f"%{_escape_like(needle.casefold())}%"
        raw = f"%{_escape_like(needle)}%"
        phones = select(PhoneRow.customer_id).where(PhoneRow.phone.like(raw, escape="\\"))
        accounts = select(AccountRow.customer_id).where(AccountRow.number.like(raw, escape="\\"))
        query = (
            select(CustomerRow)
            .where(
                or_(
                    CustomerRow.name_key.like(pattern, escape="\\"),
                    func.lower(CustomerRow.email).like(pattern, escape="\\"),
                    CustomerRow.id.in_(phones),
                    CustomerRow.id.in_(accounts),
                )
            )
            .order_by(CustomerRow.name, CustomerRow.id)
            .limit(limit)
        )
        return self._many(query)

    def page(self, limit: int = 50, offset: int = 0) -> list[Customer]:
        """A page of customers in creation order."""
        query = select(CustomerRow).order_by(CustomerRow.id).offset(offset).limit(limit)
        return self._many(query)

    def count(self) -> int:
        with self._db.session() as s:
            return int(s.scalar(select(func.count()).select_from(CustomerRow)) or 0)

    def add(
        self,
        name: str,
        phones: Sequence[str],
        *,
        language: str = "en",
        segment: str = "standard",
        preferred_channel: str = "voice",
        email: str | None = None,
        time_zone: str = "UTC",
        area: str | None = None,
        accounts: Sequence[NewAccount] = (),
        requests: Sequence[NewRequest] = (),
        created_at: datetime | None = None,
    ) -> Customer:
        """Create a customer with phones, accounts and requests in one transaction."""
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
        if preferred_channel not in PREFERRED_CHANNELS:
            raise ValueError(f"preferred_channel must be one of {PREFERRED_CHANNELS}")
        unique_phones = list(dict.fromkeys(check_e164(p) for p in phones))
        row = CustomerRow(
            name=name,
            name_key=name.casefold(),
            language=language,
            segment=segment,
            preferred_channel=preferred_channel,
            email=email,
            time_zone=time_zone,
            area=area,
            created_at=check_aware(created_at or now_utc(), "created_at"),
            phones=[PhoneRow(phone=p) for p in unique_phones],
            accounts=[_account_row(a) for a in accounts],
            requests=[_request_row(r) for r in requests],
        )
        try:
            with self._db.session() as s:
                s.add(row)
                s.flush()
                return _customer(row)
        except IntegrityError as exc:
            reason = str(exc.orig).splitlines()[0]
            raise Conflict(f"cannot add customer {name!r}: {reason}") from None

    def add_account(self, customer_id: int, spec: NewAccount) -> Account:
        try:
            with self._db.session() as s:
                self._row(s, customer_id)
                row = _account_row(spec)
                row.customer_id = customer_id
                s.add(row)
                s.flush()
                return _account(row)
        except IntegrityError:
            raise Conflict(f"account number {spec.number!r} already exists") from None

    def add_request(self, customer_id: int, spec: NewRequest) -> ServiceRequest:
        with self._db.session() as s:
            self._row(s, customer_id)
            row = _request_row(spec)
            row.customer_id = customer_id
            s.add(row)
            s.flush()
            return _request(row)

    def set_request_status(self, request_id: int, status: str) -> ServiceRequest:
        with self._db.session() as s:
            row = s.get(RequestRow, request_id)
            if row is None:
                raise NotFound(f"no request {request_id}")
            row.status = status
            row.updated_at = now_utc()
            s.flush()
            return _request(row)

    def requests(self, customer_id: int, *, include_closed: bool = True) -> list[ServiceRequest]:
        query = select(RequestRow).where(RequestRow.customer_id == customer_id)
        if not include_closed:
            query = query.where(RequestRow.status.not_in(CLOSED_REQUEST_STATUSES))
        with self._db.session() as s:
            return [_request(r) for r in s.scalars(query.order_by(RequestRow.id))]

    def _many(self, query: Select[CustomerRow]) -> list[Customer]:
        with self._db.session() as s:
            return [_customer(r) for r in s.scalars(query.options(*_LOAD))]

    @staticmethod
    def _row(s: Session, customer_id: int) -> CustomerRow:
        query = select(CustomerRow).where(CustomerRow.id == customer_id).options(*_LOAD)
        row = s.scalars(query).one_or_none()
        if row is None:
            raise NotFound(f"no customer {customer_id}")
        return row
