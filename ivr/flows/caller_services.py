"""The hooks `ivr serve` runs: the caller through the CRM, the personal greeting, one-time
codes, and the live transfer contexts; the rest is delegated to StoreServices."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from ivr.auth.errors import AuthError, OtpLocked, OtpRateLimited
from ivr.auth.otp import OtpService, calling_line
from ivr.customers.context import LiveContexts
from ivr.customers.crm import CallerLookup, LookupResult
from ivr.customers.greeting import build_greeting
from ivr.customers.history import ContactHistory
from ivr.customers.welcome import GreetingService
from ivr.flows.services import AUTH_LOCKED, HookResult, customer_data
from ivr.flows.store_services import StoreServices
from ivr.store.db import Database
from ivr.store.errors import NotFound, StoreError
from ivr.store.models import now_utc
from ivr.store.repositories.interactions import InteractionRepository

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ivr.customers.context import TransferContext
    from ivr.flows.runtime import FlowContext


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
        self.live = live if live is not None else LiveContexts(db)
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
        line = calling_line(ctx.caller, ctx.channel)  # bears the backoff of codes it kills
        try:
            if ctx.state.get("otp_sent"):
                issued = await self._otp.resend(customer_id, line=line)
            else:
                issued = await self._otp.issue(customer_id, line=line)
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
        await self.live.save(context)
