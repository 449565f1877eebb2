"""Trigger events: a bill forecast over the customer's limit, an outage in an area.

Send an `Idempotency-Key` header (or `event_id` in the body): the same key twice returns the
first answer and calls nobody again. Without one, an identical body counts as the same event.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from ivr.admin import auth
from ivr.admin.deps import database
from ivr.admin.fields import Limit, Money, Text
from ivr.admin.problems import RESPONSES, responses
from ivr.campaigns.errors import EventRejected
from ivr.campaigns.triggers import Triggers
from ivr.store.db import Database
from ivr.store.errors import NotFound

router = APIRouter(prefix="/api/events", tags=["events"],
                   dependencies=[Depends(auth.operator)], responses=RESPONSES)  # fmt: skip
Db = Annotated[Database, Depends(database)]
Key = Annotated[Text | None, Header(alias="Idempotency-Key", max_length=200)]


class BillForecast(BaseModel):
    customer: Text = Field(min_length=1, max_length=32,
                           description="customer id or account number")
    forecast: Money
    limit: Limit | None = None
    event_id: Text | None = Field(None, max_length=200)


class Outage(BaseModel):
    area: Text = Field(min_length=1, max_length=32)
    message: Text = Field(min_length=1, max_length=500)
    eta: Text = Field("", max_length=100)
    status: Literal["ongoing", "updated", "resolved"] = "ongoing"
    event_id: Text | None = Field(None, max_length=200)


def _triggers(request: Request, db: Database) -> Triggers:
    dialer = getattr(request.app.state, "dialer", None)
    return Triggers(db, on_contacts=dialer.wake if dialer is not None else None)


@router.post("/bill-forecast", responses=responses(404, 409))
async def bill_forecast(body: BillForecast, db: Db, request: Request,
                        idempotency_key: Key = None) -> dict[str, Any]:
    triggers = _triggers(request, db)
    try:
        return await asyncio.to_thread(triggers.bill_forecast, body.customer, body.forecast,
                                       body.limit, idempotency_key or body.event_id)
    except (EventRejected, NotFound) as exc:  # no such customer or account
        raise HTTPException(404, str(exc)) from None


@router.post("/outage", responses=responses(409))
async def outage(body: Outage, db: Db, request: Request, idempotency_key: Key = None,
                 ) -> dict[str, Any]:
    triggers = _triggers(request, db)
    return await asyncio.to_thread(triggers.outage, body.area, body.message, body.eta,
                                   body.status, idempotency_key or body.event_id)
