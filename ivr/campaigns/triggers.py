"""Events -> notifications: bill forecasts over the customer's own limit, outages by area.

Idempotent twice over: the event key's stored result is replayed for a repeated key, and every
contact carries a dedupe key made from the event, so even a replay racing the first request
inserts nobody twice. An outage update (new message/eta/status) cancels the area's notices not
yet delivered and queues the new one; an update identical to the last one calls nobody.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ivr.campaigns.errors import EventRejected
from ivr.campaigns.scheduler import first_call
from ivr.store.db import Database
from ivr.store.domain import DB_INT_MAX, CampaignSpec, NewContact
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.events import EventRepository, Recipient

BILL_CAMPAIGN = "bill-forecast"
BILL_MESSAGE = ("Hello $name. Your bill this month is forecast at $forecast $currency, "
                "above the limit of $limit $currency you set.")
OUTAGE_MESSAGE = "Service notice for your area ($status): $message. Expected fix: $eta."


def fingerprint(kind: str, body: dict[str, Any]) -> str:
    canonical = json.dumps({"kind": kind, **body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _contact(r: Recipient, dedupe: str, variables: dict[str, str]) -> NewContact | None:
    if r.phone is None:
        return None
    channel = r.preferred_channel if r.preferred_channel in ("sms", "email") else "voice"
    if channel == "email" and not r.email:
        channel = "voice"
    return NewContact(phone=r.phone, name=r.name, time_zone=r.time_zone, email=r.email,
                      language=r.language, channel=channel, variables=variables,
                      customer_id=r.customer_id, dedupe_key=dedupe)


class Triggers:
    def __init__(self, db: Database, *, on_contacts: Callable[[], None] | None = None) -> None:
        self.campaigns = CampaignRepository(db)
        self.events = EventRepository(db)
        self.customers = CustomerRepository(db)
        self.on_contacts = on_contacts

    def _once(self, kind: str, key: str | None, body: dict[str, Any],
              work: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        fp = fingerprint(kind, body)
        key = key or f"{kind}:{fp}"  # no key given: the same event body is the same event
        stored = self.events.seen(key, fp)
        if stored is not None:
            return {**stored, "replayed": True}
        result = {"key": key, **work(key)}
        self.events.remember(key, kind, fp, result)
        if result.get("queued") and self.on_contacts is not None:
            self.on_contacts()
        return {**result, "replayed": False}

    # -- bill forecast --------------------------------------------------------------------
    def bill_forecast(self, customer: str, forecast: Decimal, limit: Decimal | None = None,
                      key: str | None = None) -> dict[str, Any]:
        body = {"customer": customer, "forecast": str(forecast),
                "limit": None if limit is None else str(limit)}
        return self._once("bill-forecast", key, body,
                          lambda k: self._bill(customer, forecast, limit, k))

    def _find(self, customer: str) -> tuple[int, Decimal | None, str]:
        """(customer id, the customer's own limit, currency) by id or account number."""
        found = [c for c in self.customers.search(customer, limit=5)
                 if any(a.number == customer for a in c.accounts)]
        # Only a number an id column can hold is an id (a longer one failed in the driver).
        if not found and customer.isdigit() and len(customer) < 11 and int(customer) <= DB_INT_MAX:
            found = [self.customers.get(int(customer))]
        if not found:
            raise EventRejected(f"no customer or account {customer!r}")
        c = found[0]
        account = next((a for a in c.accounts if a.number == customer), None)
        limits = [a for a in c.accounts if a.bill_limit is not None]
        chosen = account or (limits[0] if limits else None)
        return c.id, chosen.bill_limit if chosen else None, chosen.currency if chosen else "USD"

    def _bill(self, customer: str, forecast: Decimal, limit: Decimal | None, key: str
              ) -> dict[str, Any]:
        cid, own_limit, currency = self._find(customer)
        limit = limit if limit is not None else own_limit
        if limit is None:
            return {"queued": 0, "reason": "the customer set no limit"}
        if forecast <= limit:
            return {"queued": 0, "reason": "forecast within the limit"}
        r = self.events.recipient(cid)
        contact = _contact(r, f"bill:{key}", {"forecast": str(forecast), "limit": str(limit),
                                              "currency": currency}) if r else None
        if contact is None:
            return {"queued": 0, "reason": "the customer has no phone number"}
        campaign = self.campaigns.ensure(CampaignSpec(
            name=BILL_CAMPAIGN, kind="bill-forecast", message=BILL_MESSAGE, max_attempts=2))
        queued, _ = self.campaigns.add_contacts(campaign.id, [contact], first_call)
        return {"queued": queued, "campaign": campaign.name}

    # -- outages --------------------------------------------------------------------------
    def outage(self, area: str, message: str, eta: str, status: str = "ongoing",
               key: str | None = None) -> dict[str, Any]:
        body = {"area": area, "message": message, "eta": eta, "status": status}
        return self._once("outage", key, body, lambda k: self._outage(body))

    def _outage(self, body: dict[str, Any]) -> dict[str, Any]:
        area = str(body["area"])
        content = fingerprint("outage-content", body)[:64]
        campaign = self.campaigns.ensure(CampaignSpec(
            name=f"outage-{area}", kind="outage", message=OUTAGE_MESSAGE, area=area,
            priority=10, max_attempts=2))
        if self.campaigns.last_event(campaign.id) == content:
            return {"queued": 0, "campaign": campaign.name, "reason": "no change"}
        superseded = self.campaigns.cancel_open(campaign.id)
        variables = {k: str(body[k]) for k in ("message", "eta", "status")}
        contacts = [c for r in self.events.recipients_in_area(area)
                    if (c := _contact(r, f"outage:{content}:{r.customer_id}", variables))]
        queued, _ = self.campaigns.add_contacts(campaign.id, contacts, first_call)
        self.campaigns.set_last_event(campaign.id, content, OUTAGE_MESSAGE)
        return {"queued": queued, "campaign": campaign.name, "superseded": superseded}
