"""Interactions in the admin API: contacts posted by other channels, the repeat-contacts
report, and the live transfer context an agent's screen reads by channel id."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from ivr.admin import auth
from ivr.admin.deps import database, live_contexts, settings
from ivr.admin.fields import Id, Instant, Text
from ivr.admin.problems import RESPONSES, responses
from ivr.admin.routes.customers import InteractionPublic, TurnPublic
from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.customers.history import ContactHistory
from ivr.customers.numbers import normalize
from ivr.store.db import Database
from ivr.store.domain import DB_INT_MAX, Turn
from ivr.store.errors import NotFound
from ivr.store.models import now_utc
from ivr.store.repositories.customers import CustomerRepository


class InteractionCreate(BaseModel):
    """A contact from another channel. Without ``customer_id`` the caller's number identifies
    the customer when exactly one owns it."""

    channel: Literal["sms", "email", "chat"]
    caller: Text = Field(min_length=1, max_length=32, description="phone, address or chat handle")
    customer_id: Id | None = None
    started_at: Instant
    ended_at: Instant | None = Field(None, description="default: started_at")
    outcome: Text = Field(max_length=32)
    intent: Text | None = Field(None, max_length=64)
    transcript: list[TurnPublic] = Field(default_factory=list, max_length=500)

    def turns(self) -> list[Turn]:
        return [Turn(t.speaker, t.text, t.at_ms) for t in self.transcript]


class RepeatRow(BaseModel):
    reason: str
    contacts: int
    repeats: int
    customers: int
    rate: float


class RepeatReport(BaseModel):
    since: datetime
    until: datetime
    window_days: int
    rows: list[RepeatRow]

# The store keeps a contact's duration in milliseconds in an `integer` column: about 24 days.
MAX_CONTACT = timedelta(milliseconds=DB_INT_MAX)
router = APIRouter(prefix="/api", tags=["interactions"], dependencies=[Depends(auth.viewer)],
                   responses=RESPONSES)
Db = Annotated[Database, Depends(database)]


async def _owner(db: Database, caller: str, region: str) -> int | None:
    number = normalize(caller, region)
    if number.e164 is None:
        return None
    owners = await asyncio.to_thread(CustomerRepository(db).find_by_phone, number.e164)
    return owners[0].id if len(owners) == 1 else None


@router.post("/interactions", status_code=201, response_model=InteractionPublic,
             dependencies=[Depends(auth.operator)], responses=responses(404))
async def post_interaction(
    db: Db, config: Annotated[Settings, Depends(settings)], body: InteractionCreate
) -> InteractionPublic:
    customer_id = body.customer_id
    if customer_id is None:
        customer_id = await _owner(db, body.caller, config.default_region)
    ended = body.ended_at or body.started_at
    if ended < body.started_at:
        raise HTTPException(422, "ended_at is before started_at")
    if ended - body.started_at > MAX_CONTACT:
        raise HTTPException(422, f"a contact can last at most {MAX_CONTACT.days} days "
                            "(from started_at to ended_at)")
    try:
        stored = await ContactHistory(db).record(
            body.caller, body.channel, body.started_at, ended, body.outcome,
            customer_id=customer_id, intent=body.intent, transcript=body.turns(),
        )  # fmt: skip
    except NotFound as err:
        raise HTTPException(404, str(err)) from None
    return InteractionPublic.of(stored)


@router.get("/reports/repeat-contacts", response_model=RepeatReport)
async def repeat_contacts(
    db: Db,
    days: Annotated[int, Query(ge=1, le=366, description="period ending now")] = 30,
    window_days: Annotated[int, Query(ge=1, le=90)] = 7,
    until: Instant | None = None,
) -> RepeatReport:
    end = until or now_utc()
    since = end - timedelta(days=days)
    rows = await ContactHistory(db).repeat_contacts(since, end, timedelta(days=window_days))
    return RepeatReport(
        since=since, until=end, window_days=window_days,
        rows=[RepeatRow(reason=r.reason, contacts=r.contacts, repeats=r.repeats,
                        customers=r.customers, rate=round(r.rate, 4)) for r in rows],
    )  # fmt: skip


@router.get("/transfers/{channel_id:path}", responses=responses(404))
async def transfer_context(
    channel_id: Annotated[Text, Path(max_length=200)],
    registry: Annotated[LiveContexts, Depends(live_contexts)],
) -> dict[str, Any]:
    """Who the transferred caller is, whether authenticated, what they asked, what they heard."""
    context = await registry.find(channel_id)
    if context is None:
        raise HTTPException(404, f"no live transfer context for channel {channel_id!r}")
    return context.to_json()
