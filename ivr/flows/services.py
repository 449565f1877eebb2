"""Hooks the flow calls out to (CRM lookup, OTP, self-service, callbacks), as one injected
interface. Each returns a named outcome the YAML routes on, plus data for placeholders.

`StoreServices` is the small default backed by the database's customers; deployments with a
real CRM or OTP sender pass their own object with the same methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import phonenumbers

from ivr.store.db import Database
from ivr.store.domain import Customer
from ivr.store.repositories.customers import CustomerRepository

if TYPE_CHECKING:
    from ivr.flows.runtime import FlowContext

CUSTOMER_FIELDS = frozenset(
    {"id", "name", "first_name", "segment", "language", "area", "email", "time_zone",
     "preferred_channel", "phone", "account_number"}
)  # fmt: skip
CALLER_FIELDS = frozenset({"number", "dnis"})

# Outcomes and the variables each self-service action fills.
ACTION_OUTCOMES: dict[str, tuple[str, ...]] = {
    "balance": ("ok", "no_account"),
    "request_status": ("open", "none"),
    "outage_status": ("outage", "none", "unknown_area"),
}
ACTION_DATA: dict[str, frozenset[str]] = {
    "balance": frozenset({"balance", "currency", "account_number", "over_limit"}),
    "request_status": frozenset({"request_title", "request_status", "request_window"}),
    "outage_status": frozenset({"outage_area", "outage_eta"}),
}
LOOKUP_OUTCOMES = ("found", "not_found", "ambiguous")
AUTH_OUTCOMES = ("verified", "failed", "unavailable")
CALLBACK_OUTCOMES = ("scheduled", "failed")
CALLBACK_DATA = frozenset({"callback_number"})


@dataclass(frozen=True)
class HookResult:
    outcome: str
    data: Mapping[str, str] = field(default_factory=dict)
    customer: Mapping[str, Any] | None = None  # lookup: the customer found


class Services(Protocol):
    async def lookup(self, ctx: FlowContext, by: str, value: str | None) -> HookResult: ...

    async def send_otp(self, ctx: FlowContext, method: str) -> HookResult:
        """Send a one-time code to the customer: `sent` or `unavailable`."""
        ...

    async def verify_otp(self, ctx: FlowContext, code: str) -> HookResult:
        """Check the code the caller keyed in: `verified` or `failed`."""
        ...

    async def self_service(self, ctx: FlowContext, action: str) -> HookResult: ...

    async def callback_request(self, ctx: FlowContext, number: str | None) -> HookResult: ...


def customer_data(customer: Customer) -> dict[str, Any]:
    """What flows may read about a customer (`{customer.name}`, `customer.segment == ...`)."""
    account = customer.accounts[0].number if customer.accounts else None
    return {
        "id": str(customer.id), "name": customer.name,
        "first_name": customer.name.split()[0] if customer.name else "",
        "segment": customer.segment, "language": customer.language, "area": customer.area,
        "email": customer.email, "time_zone": customer.time_zone,
        "preferred_channel": customer.preferred_channel,
        "phone": customer.phones[0] if customer.phones else None, "account_number": account,
    }  # fmt: skip


def to_e164(number: str | None, region: str) -> str | None:
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class StoreServices:
    """Lookup by caller id and balance / request status from the database; outages from a
    map of area -> ETA text given at construction; OTP is not available here."""

    def __init__(
        self, db: Database, *, region: str = "US", outages: Mapping[str, str] | None = None
    ) -> None:
        self._customers = CustomerRepository(db)
        self._region = region
        self._outages = dict(outages or {})
        self.callbacks: list[str] = []

    async def lookup(self, ctx: FlowContext, by: str, value: str | None) -> HookResult:
        found = await asyncio.to_thread(self._find, ctx, by, value)
        if not found:
            return HookResult("not_found")
        if len(found) > 1:
            return HookResult("ambiguous")
        return HookResult("found", customer=customer_data(found[0]))

    def _find(self, ctx: FlowContext, by: str, value: str | None) -> list[Customer]:
        if by == "account":
            if not value:
                return []
            matches = self._customers.search(value)
            return [c for c in matches if any(a.number == value for a in c.accounts)]
        number = to_e164(ctx.caller, self._region)
        return self._customers.find_by_phone(number) if number else []

    async def send_otp(self, ctx: FlowContext, method: str) -> HookResult:
        # OTP lives in ivr.auth (another issue); until it is wired, flows route `unavailable`.
        return HookResult("unavailable")

    async def verify_otp(self, ctx: FlowContext, code: str) -> HookResult:
        return HookResult("failed")

    async def self_service(self, ctx: FlowContext, action: str) -> HookResult:
        if action == "outage_status":
            return self._outage(ctx)
        customer_id = (ctx.customer or {}).get("id")
        if customer_id is None:
            return HookResult("no_account" if action == "balance" else "none")
        customer = await asyncio.to_thread(self._customers.get, int(customer_id))
        if action == "balance":
            if not customer.accounts:
                return HookResult("no_account")
            account = customer.accounts[0]
            return HookResult("ok", {
                "balance": f"{account.balance:.2f}", "currency": account.currency,
                "account_number": account.number, "over_limit": str(account.over_limit).lower(),
            })  # fmt: skip
        if not customer.open_requests:
            return HookResult("none")
        request = customer.open_requests[0]
        window = request.scheduled_from.strftime("%Y-%m-%d %H:%M") if request.scheduled_from else ""
        return HookResult("open", {
            "request_title": request.title, "request_status": request.status,
            "request_window": window,
        })  # fmt: skip

    def _outage(self, ctx: FlowContext) -> HookResult:
        area = (ctx.customer or {}).get("area")
        if not area:
            return HookResult("unknown_area")
        eta = self._outages.get(str(area))
        if eta is None:
            return HookResult("none", {"outage_area": str(area)})
        return HookResult("outage", {"outage_area": str(area), "outage_eta": eta})

    async def callback_request(self, ctx: FlowContext, number: str | None) -> HookResult:
        # No callback table yet: requests are kept in memory (visible to tests and logs).
        if not number:
            return HookResult("failed")
        self.callbacks.append(number)
        return HookResult("scheduled", {"callback_number": number})
