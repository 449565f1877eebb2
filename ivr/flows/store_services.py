"""The default hooks: customers, balances and open requests from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ivr.customers.numbers import normalize
from ivr.flows.services import HookResult, customer_data, to_e164
from ivr.store.db import Database
from ivr.store.domain import Customer
from ivr.store.repositories.customers import CustomerRepository

if TYPE_CHECKING:
    from ivr.flows.runtime import FlowContext


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
