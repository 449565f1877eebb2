"""Customers in the admin API: search, one customer, their journey across channels."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from ivr.admin import auth
from ivr.admin.deps import database
from ivr.admin.fields import Count, Id, Offset, Text
from ivr.admin.problems import RESPONSES, responses
from ivr.customers.history import ContactHistory
from ivr.store.db import Database
from ivr.store.domain import Customer, Interaction
from ivr.store.errors import NotFound
from ivr.store.repositories.customers import CustomerRepository


class AccountPublic(BaseModel):
    number: str
    balance: Decimal
    bill_limit: Decimal | None
    forecast: Decimal | None
    currency: str
    over_limit: bool


class RequestPublic(BaseModel):
    id: int
    kind: str
    title: str
    status: str
    scheduled_from: datetime | None
    scheduled_to: datetime | None


class CustomerPublic(BaseModel):
    id: int
    name: str
    phones: list[str]
    language: str
    segment: str
    preferred_channel: str
    email: str | None
    time_zone: str
    area: str | None
    accounts: list[AccountPublic]
    open_requests: list[RequestPublic]

    @classmethod
    def of(cls, c: Customer) -> CustomerPublic:
        return cls(
            id=c.id, name=c.name, phones=list(c.phones), language=c.language, segment=c.segment,
            preferred_channel=c.preferred_channel, email=c.email, time_zone=c.time_zone,
            area=c.area,
            accounts=[AccountPublic(number=a.number, balance=a.balance, bill_limit=a.bill_limit,
                                    forecast=a.forecast, currency=a.currency,
                                    over_limit=a.over_limit) for a in c.accounts],
            open_requests=[RequestPublic(id=r.id, kind=r.kind, title=r.title, status=r.status,
                                         scheduled_from=r.scheduled_from,
                                         scheduled_to=r.scheduled_to) for r in c.open_requests],
        )  # fmt: skip


class TurnPublic(BaseModel):
    speaker: Text = Field(max_length=32)
    text: Text = Field(max_length=4000)
    at_ms: Count = 0


class InteractionPublic(BaseModel):
    id: int
    customer_id: int | None
    caller: str
    channel: str
    started_at: datetime
    ended_at: datetime | None
    intent: str | None
    outcome: str | None
    path: list[str]
    transcript: list[TurnPublic]
    duration_ms: int | None

    @classmethod
    def of(cls, i: Interaction) -> InteractionPublic:
        return cls(
            id=i.id, customer_id=i.customer_id, caller=i.caller, channel=i.channel,
            started_at=i.started_at, ended_at=i.ended_at, intent=i.intent, outcome=i.outcome,
            path=list(i.path), duration_ms=i.duration_ms,
            transcript=[TurnPublic(speaker=t.speaker, text=t.text, at_ms=t.at_ms)
                        for t in i.transcript],
        )  # fmt: skip


router = APIRouter(prefix="/api/customers", tags=["customers"],
                   dependencies=[Depends(auth.viewer)], responses=RESPONSES)  # fmt: skip
Db = Annotated[Database, Depends(database)]
CustomerId = Annotated[Id, Path()]


@router.get("", response_model=list[CustomerPublic])
async def search_customers(
    db: Db,
    q: Annotated[Text | None, Query(max_length=200, description="name, e-mail, phone...")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[Offset, Query()] = 0,
) -> list[CustomerPublic]:
    repo = CustomerRepository(db)
    if q:
        found = await asyncio.to_thread(repo.search, q, limit)
    else:
        found = await asyncio.to_thread(repo.page, limit, offset)
    return [CustomerPublic.of(c) for c in found]


async def _customer(db: Database, customer_id: int) -> Customer:
    try:
        return await asyncio.to_thread(CustomerRepository(db).get, customer_id)
    except NotFound as err:
        raise HTTPException(404, str(err)) from None


@router.get("/{customer_id}", response_model=CustomerPublic, responses=responses(404))
async def get_customer(db: Db, customer_id: CustomerId) -> CustomerPublic:
    return CustomerPublic.of(await _customer(db, customer_id))


@router.get("/{customer_id}/journey", response_model=list[InteractionPublic],
            responses=responses(404))
async def customer_journey(
    db: Db, customer_id: CustomerId, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[InteractionPublic]:
    """Every contact (voice, SMS, e-mail, chat), newest first."""
    await _customer(db, customer_id)
    journey = await ContactHistory(db).journey(customer_id, limit)
    return [InteractionPublic.of(i) for i in journey]
