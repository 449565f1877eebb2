"""Hooks the flow calls out to (CRM lookup, OTP, self-service, callbacks), as one injected
interface. Each returns a named outcome the YAML routes on, plus data for placeholders.

This module holds the interface, the outcomes and the customer fields flows may read; the
implementations live beside it: `store_services.StoreServices` is the small default backed by
the database's customers (no OTP, no greeting); `caller_services.CallerServices` (CRM lookup,
greeting, OTP, live transfer contexts) is what `ivr serve` runs.
Two optional hooks, `Greeter` and `TransferObserver`, are found with isinstance: flows also
run on objects that only have the five base methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import phonenumbers

from ivr.store.domain import Customer

if TYPE_CHECKING:
    from ivr.customers.context import TransferContext
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
AUTH_LOCKED = "locked"  # optional route: too many wrong codes (falls back to `failed`)
GREET_OUTCOMES = ("personal", "ambiguous", "generic")
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


@runtime_checkable
class Greeter(Protocol):
    async def greet(self, ctx: FlowContext, language: str, zone: str | None) -> HookResult:
        """The caller's greeting: outcome personal|ambiguous|generic; data `greeting_text`
        (salutation + open item), `greeting_item`, `offer_intent`, `offer_text`; `customer`:
        the caller found by the calling number (the engine counts it as a caller-ID match)."""
        ...


@runtime_checkable
class TransferObserver(Protocol):
    async def transferring(self, ctx: FlowContext, context: TransferContext) -> None:
        """Called just before the caller goes to an agent (publish the live context)."""
        ...


def told_summary(action: str, outcome: str, data: Mapping[str, str]) -> str | None:
    """One line for the agent: what a self-service step told the caller."""
    if action == "balance" and outcome == "ok":
        return f"balance {data.get('balance', '')} {data.get('currency', '')}".strip()
    if action == "request_status" and outcome == "open":
        return f"request '{data.get('request_title', '')}' is {data.get('request_status', '')}"
    if action == "outage_status" and outcome == "outage":
        return f"outage in {data.get('outage_area', '')}, ETA {data.get('outage_eta', '')}"
    if action == "request_status" and outcome == "none":
        return "no open request"
    if action == "outage_status" and outcome == "none":
        return "no outage in the area"
    return None


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
