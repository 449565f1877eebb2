"""Hooks the flow calls out to (CRM lookup, OTP, self-service, callbacks), as one injected
interface. Each returns a named outcome the YAML routes on, plus data for placeholders.

`StoreServices` is the small default backed by the database's customers (no OTP, no greeting);
`CallerServices` (CRM lookup, greeting, OTP, live transfer contexts) is what `ivr serve` runs.
Two optional hooks, `Greeter` and `TransferObserver`, are found with isinstance: flows also
run on objects that only have the five base methods.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import phonenumbers

from ivr.auth.errors import AuthError, OtpLocked, OtpRateLimited
from ivr.auth.otp import OtpService
from ivr.customers.context import LiveContexts
from ivr.customers.crm import CallerLookup, LookupResult
from ivr.customers.greeting import build_greeting
from ivr.customers.history import ContactHistory
from ivr.customers.numbers import normalize
from ivr.customers.welcome import GreetingService
from ivr.store.db import Database
from ivr.store.domain import Customer
from ivr.store.errors import NotFound, StoreError
from ivr.store.models import now_utc
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.interactions import InteractionRepository

log = logging.getLogger(__name__)

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
        (salutation + open item), `greeting_item`, `offer_intent`, `offer_text`."""
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
        # A withheld or unreadable caller ID is no number to call back.
        callback = normalize(number, self._region)
        if callback.e164 is None:
            return HookResult("failed")
        self.callbacks.append(callback.e164)
        return HookResult("scheduled", {"callback_number": callback.e164})


def _customer_id(ctx: FlowContext) -> int | None:
    value = (ctx.customer or {}).get("id")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None  # a CRM id that is no store id: OTP cannot reach this customer


def _lookup_result(found: LookupResult) -> HookResult:
    status = {"caller_status": found.kind}
    if found.customer is not None:
        return HookResult("found", status, customer_data(found.customer))
    return HookResult("ambiguous" if found.kind == "ambiguous" else "not_found", status)


class CallerServices:
    """What `ivr serve` runs: the caller found through CallerLookup (time budget, cache, circuit
    breaker), the personalised greeting, one-time codes sent to the contact on file, balance /
    request status / callbacks from the store (StoreServices), and the live transfer contexts
    the admin API reads. Per-call memory lives in `ctx.state`, so one object serves all calls."""

    def __init__(
        self,
        db: Database,
        lookup: CallerLookup,
        *,
        otp: OtpService | None = None,
        store: StoreServices | None = None,
        live: LiveContexts | None = None,
        history: ContactHistory | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self._lookup = lookup
        self._otp = otp
        self._store = store or StoreServices(db)
        self.live = live if live is not None else LiveContexts()
        self._history = history if history is not None else ContactHistory(db)
        self._interactions = InteractionRepository(db)
        self._clock = clock

    @property
    def callbacks(self) -> list[str]:
        return self._store.callbacks

    async def _caller(self, ctx: FlowContext) -> LookupResult:
        found = ctx.state.get("lookup")
        if not isinstance(found, LookupResult):
            found = await self._lookup.lookup(ctx.caller)
            ctx.state["lookup"] = found
        return found

    async def lookup(self, ctx: FlowContext, by: str, value: str | None) -> HookResult:
        if by != "caller":
            return await self._store.lookup(ctx, by, value)
        return _lookup_result(await self._caller(ctx))

    async def greet(self, ctx: FlowContext, language: str, zone: str | None) -> HookResult:
        found = ctx.state.get("lookup")
        if isinstance(found, LookupResult) and found.customer is None:
            # Already looked up and nobody to personalise for: no second trip to the CRM.
            greeting = build_greeting(found, self._clock(), language=language, zone=zone)
        else:
            service = GreetingService(self._lookup, self._history, language=language, zone=zone,
                                      clock=self._clock)  # fmt: skip
            welcome = await service.welcome(ctx.caller)
            found, greeting = welcome.lookup, welcome.greeting
        ctx.state["lookup"] = found
        data = {
            "greeting_kind": greeting.kind,
            "caller_status": found.kind,
            "greeting_text": " ".join(greeting.sentences[: 2 if greeting.item else 1]),
        }
        if greeting.item is not None:
            data["greeting_item"] = greeting.item.text
        if greeting.offer is not None:
            data.update(offer_intent=greeting.offer.intent, offer_text=greeting.offer.text)
        customer = found.customer
        if customer is not None:
            await self._link_interaction(ctx, customer.id)
        return HookResult(greeting.kind, data, customer_data(customer) if customer else None)

    async def _link_interaction(self, ctx: FlowContext, customer_id: int) -> None:
        """Contact memory: the call's interaction belongs to the customer from now on."""
        interaction = ctx.state.get("interaction_id")
        if not isinstance(interaction, int):
            return
        try:
            await asyncio.to_thread(self._interactions.identify, interaction, customer_id)
        except StoreError as err:  # e.g. a CRM customer the store does not hold
            log.info("interaction %s not linked to customer %s: %s", interaction, customer_id, err)

    async def send_otp(self, ctx: FlowContext, method: str) -> HookResult:
        """First call sends a code, later ones (`*`) resend; `sent`, `locked`, `rate_limited`
        or `unavailable`, with `auth_result` for the transfer context."""
        customer_id = _customer_id(ctx)
        if self._otp is None or customer_id is None:
            return HookResult("unavailable", {"auth_result": "unavailable"})
        try:
            if ctx.state.get("otp_sent"):
                issued = await self._otp.resend(customer_id)
            else:
                issued = await self._otp.issue(customer_id)
        except OtpLocked:
            return HookResult("locked", {"auth_result": "locked"})
        except OtpRateLimited:
            return HookResult("rate_limited", {"auth_result": "rate_limited"})
        except (AuthError, NotFound) as err:
            log.warning("one-time code not sent to customer %s: %s", customer_id, err)
            return HookResult("unavailable", {"auth_result": "unavailable"})
        ctx.state["otp_sent"] = True
        return HookResult("sent", {"otp_channel": issued.channel})

    async def verify_otp(self, ctx: FlowContext, code: str) -> HookResult:
        """`verified`, `locked` (stop asking: agent) or `failed`; `auth_result` says why."""
        customer_id = _customer_id(ctx)
        if self._otp is None or customer_id is None or not ctx.state.get("otp_sent"):
            return HookResult("failed", {"auth_result": "no_code"})
        checked = await self._otp.verify(customer_id, code)
        outcome = checked.status if checked.status in ("verified", AUTH_LOCKED) else "failed"
        return HookResult(outcome, {"auth_result": checked.status})

    async def self_service(self, ctx: FlowContext, action: str) -> HookResult:
        try:
            return await self._store.self_service(ctx, action)
        except NotFound:  # a CRM customer the store does not hold
            return HookResult("no_account" if action == "balance" else "none")

    async def callback_request(self, ctx: FlowContext, number: str | None) -> HookResult:
        return await self._store.callback_request(ctx, number)

    async def transferring(self, ctx: FlowContext, context: TransferContext) -> None:
        self.live.put(context)
