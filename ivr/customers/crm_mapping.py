"""Turn a foreign CRM's JSON into our Customer objects through a field mapping.

The mapping names, for each of our fields, the path of theirs (``name=contact.full_name``).
Unmapped fields are read under our own names. Accounts and requests are read with our names
(``number``, ``balance``, ``bill_limit``, ``forecast``, ``currency``; ``kind``, ``title``,
``status``, ``scheduled_from``, ``scheduled_to`` as ISO 8601 with an offset).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ivr.customers.errors import CrmConfigError, CrmError
from ivr.store.domain import Account, Customer, ServiceRequest

FIELDS = frozenset(
    {"customers", "id", "name", "phones", "language", "segment", "preferred_channel", "email",
     "time_zone", "area", "accounts", "requests"}
)  # fmt: skip
LANGUAGES = ("en", "ru")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_fields(spec: str) -> dict[str, str]:
    """``"name=full_name, phones=contact.phones"`` -> {"name": "full_name", ...}."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        ours, sep, theirs = part.partition("=")
        ours, theirs = ours.strip(), theirs.strip()
        if not sep or not theirs or ours not in FIELDS:
            raise CrmConfigError(
                f"bad CRM field mapping {part!r}: expected ours=theirs with ours one of "
                f"{', '.join(sorted(FIELDS))}"
            )
        mapping[ours] = theirs
    return mapping


def _dig(data: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def records(body: Any, fields: Mapping[str, str]) -> list[Mapping[str, Any]]:
    """The customer objects in a response: a list, ``{"customers": [...]}`` or one object."""
    found = _dig(body, fields.get("customers", "customers")) if isinstance(body, dict) else body
    if found is None and isinstance(body, dict):
        found = [body]
    if not isinstance(found, list) or not all(isinstance(r, Mapping) for r in found):
        raise CrmError("CRM answered JSON that is not a customer or a list of customers")
    return found


def _text(value: Any, what: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CrmError(f"CRM field {what} is {type(value).__name__}, expected text")
    return str(value)


def _money(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise CrmError(f"CRM field {what} is not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CrmError(f"CRM field {what} is not a number: {value!r}") from None


def _when(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise CrmError(f"CRM field {what} is not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise CrmError(f"CRM field {what} has no UTC offset: {value!r}")
    return parsed


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CrmError(f"CRM field {what} is not a list")
    return value


def _account(data: Any, customer_id: int, index: int) -> Account:
    if not isinstance(data, Mapping):
        raise CrmError("CRM account is not an object")
    return Account(
        id=index, customer_id=customer_id,
        number=_text(data.get("number"), "accounts.number", required=True) or "",
        balance=_money(data.get("balance"), "accounts.balance") or Decimal(0),
        bill_limit=_money(data.get("bill_limit"), "accounts.bill_limit"),
        forecast=_money(data.get("forecast"), "accounts.forecast"),
        currency=_text(data.get("currency"), "accounts.currency") or "USD",
    )  # fmt: skip


def _request(data: Any, customer_id: int, index: int) -> ServiceRequest:
    if not isinstance(data, Mapping):
        raise CrmError("CRM request is not an object")
    return ServiceRequest(
        id=index, customer_id=customer_id,
        kind=_text(data.get("kind"), "requests.kind") or "request",
        title=_text(data.get("title"), "requests.title", required=True) or "",
        status=_text(data.get("status"), "requests.status") or "open",
        scheduled_from=_when(data.get("scheduled_from"), "requests.scheduled_from"),
        scheduled_to=_when(data.get("scheduled_to"), "requests.scheduled_to"),
        updated_at=_when(data.get("updated_at"), "requests.updated_at") or _EPOCH,
    )  # fmt: skip


def customer(data: Mapping[str, Any], fields: Mapping[str, str]) -> Customer:
    def get(ours: str) -> Any:
        return _dig(data, fields.get(ours, ours))

    raw_id = get("id")
    if isinstance(raw_id, bool) or not str(raw_id).isdigit():
        raise CrmError(f"CRM customer id {raw_id!r} is not a number")
    cid = int(str(raw_id))
    phones = get("phones")
    language = _text(get("language"), "language") or "en"
    requests = [_request(r, cid, i) for i, r in enumerate(_list(get("requests"), "requests"), 1)]
    return Customer(
        id=cid,
        name=_text(get("name"), "name", required=True) or "",
        phones=tuple(_text(p, "phones") or "" for p in (
            [phones] if isinstance(phones, str) else _list(phones, "phones"))),
        language=language if language in LANGUAGES else "en",
        segment=_text(get("segment"), "segment") or "standard",
        preferred_channel=_text(get("preferred_channel"), "preferred_channel") or "voice",
        email=_text(get("email"), "email"),
        time_zone=_text(get("time_zone"), "time_zone") or "UTC",
        area=_text(get("area"), "area"),
        created_at=_EPOCH,
        accounts=tuple(_account(a, cid, i) for i, a in enumerate(
            _list(get("accounts"), "accounts"), 1)),
        open_requests=tuple(r for r in requests if r.is_open),
    )  # fmt: skip
