"""Campaigns in the admin API: create, contacts (JSON or CSV), start/pause/resume/cancel, live
progress and reports (JSON and CSV)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, get_args
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, WithJsonSchema

from ivr.admin import auth
from ivr.admin.deps import database
from ivr.admin.fields import TEXT_PATTERN, Count, IsoDate, Small, Text
from ivr.admin.problems import RESPONSES, responses
from ivr.campaigns import reports
from ivr.campaigns.csv_import import ImportReport, Rejection, decode_csv, import_csv, parse_row
from ivr.campaigns.errors import CampaignError
from ivr.campaigns.scheduler import first_call
from ivr.store.db import Database
from ivr.store.domain import (
    DEFAULT_RETRY_SECONDS,
    RETRY_OUTCOMES,
    Campaign,
    CampaignSpec,
    NewContact,
)
from ivr.store.repositories.campaigns import CampaignRepository

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"],
                   dependencies=[Depends(auth.viewer)], responses=RESPONSES)  # fmt: skip
Db = Annotated[Database, Depends(database)]
# Names made by events (outage-<area>) may hold any text, so paths take what a column holds.
Name = Annotated[Text, Path(max_length=100)]
HHMM = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"
# Message variables: a small map of short texts (stored as JSON with each contact).
Variables = Annotated[
    dict[Annotated[Text, Field(max_length=64)], Annotated[Text, Field(max_length=1000)]],
    Field(max_length=50),
    # Keys constrained by patternProperties: schema generators ignore a propertyNames pattern.
    WithJsonSchema({"type": "object", "maxProperties": 50, "additionalProperties": False,
                    "patternProperties": {TEXT_PATTERN.replace("*", "{0,64}"): {
                        "type": "string", "maxLength": 1000, "pattern": TEXT_PATTERN}}}),
]  # fmt: skip
ACTIONS = {"start": "running", "resume": "running", "pause": "paused", "cancel": "cancelled"}
RetryOutcome = Literal["busy", "no-answer", "congestion", "machine", "failed", "callback",
                       "unknown"]
assert set(get_args(RetryOutcome)) == set(RETRY_OUTCOMES), "keep in step with the store"
MAX_CSV_BYTES = 20_000_000


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.-]+$")
    kind: Text = Field("custom", max_length=32)
    message: Text = Field("", max_length=2000)
    prompts: list[Annotated[Text, Field(max_length=200)]] = Field([], max_length=50)
    window_start: str = Field("08:00", pattern=HHMM)
    window_end: str = Field("21:00", pattern=HHMM)
    holidays: list[IsoDate] = Field([], max_length=400)
    max_attempts: Small = Field(3, ge=1, le=10)
    retry_seconds: dict[RetryOutcome, Count] = Field(
        # The store keys its defaults by str; RetryOutcome names the same keys (asserted above).
        default_factory=lambda: dict(DEFAULT_RETRY_SECONDS))  # type: ignore[arg-type]
    daily_cap: Small = Field(3, ge=1, le=10)
    priority: Small = Field(0, ge=-1000, le=1000)
    max_channels: Small = Field(10, ge=1, le=10_000)
    calls_per_second: float = Field(5.0, gt=0, le=1000, allow_inf_nan=False, strict=True)
    default_time_zone: Text = Field("UTC", max_length=64)


class CampaignPublic(BaseModel):
    id: int
    name: str
    kind: str
    state: str
    pause_reason: str | None
    window: str
    max_attempts: int
    daily_cap: int
    max_channels: int
    calls_per_second: float
    progress: dict[str, int]

    @classmethod
    def of(cls, c: Campaign, progress: dict[str, int]) -> CampaignPublic:
        def hhmm(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"
        window = f"{hhmm(c.window_start)}-{hhmm(c.window_end)}"
        return cls(id=c.id, name=c.name, kind=c.kind, state=c.state,
                   pause_reason=c.pause_reason, window=window,
                   max_attempts=c.max_attempts, daily_cap=c.daily_cap,
                   max_channels=c.max_channels, calls_per_second=c.calls_per_second,
                   progress=progress)


class ContactIn(BaseModel):
    phone: Text = Field(max_length=32)
    name: Text = Field("", max_length=200)
    time_zone: Text = Field("", max_length=64)
    email: Text | None = Field(None, max_length=320)
    language: Text = Field("en", max_length=8)
    channel: Literal["voice", "sms", "email"] = "voice"
    variables: Variables = {}


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _wake(request: Request) -> None:
    dialer = getattr(request.app.state, "dialer", None)
    if dialer is not None:
        dialer.wake()


async def _public(db: Database, campaign: Campaign) -> CampaignPublic:
    progress = await asyncio.to_thread(CampaignRepository(db).progress, campaign.id)
    return CampaignPublic.of(campaign, progress)


@router.get("", response_model=list[CampaignPublic])
async def list_campaigns(db: Db) -> list[CampaignPublic]:
    campaigns = await asyncio.to_thread(CampaignRepository(db).all)
    return [await _public(db, c) for c in campaigns]


@router.post("", status_code=201, response_model=CampaignPublic,
             dependencies=[Depends(auth.operator)], responses=responses(409))
async def create_campaign(body: CampaignCreate, db: Db) -> CampaignPublic:
    try:
        spec = CampaignSpec(**{**body.model_dump(), "prompts": tuple(body.prompts),
                               "holidays": tuple(d.isoformat() for d in body.holidays),
                               "window_start": _minutes(body.window_start),
                               "window_end": _minutes(body.window_end)})
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    campaign = await asyncio.to_thread(CampaignRepository(db).create, spec)
    return await _public(db, campaign)


@router.get("/{name}", response_model=CampaignPublic, responses=responses(404))
async def get_campaign(name: Name, db: Db) -> CampaignPublic:
    return await _public(db, await asyncio.to_thread(CampaignRepository(db).get, name))


@router.post("/{name}/contacts", dependencies=[Depends(auth.operator)],
             responses=responses(404))
async def add_contacts(name: Name, body: Annotated[list[ContactIn], Body(max_length=10_000)],
                       db: Db, request: Request) -> dict[str, Any]:
    """Contacts as JSON; checked like CSV rows, valid ones added in one transaction."""
    repo = CampaignRepository(db)
    campaign = await asyncio.to_thread(repo.get, name)
    region = request.app.state.settings.default_region
    report, good, lines = ImportReport(name, rows=len(body)), list[NewContact](), list[int]()
    for index, item in enumerate(body):
        row = {**item.variables, **item.model_dump(exclude={"variables"}, exclude_none=True)}
        parsed = parse_row({k: str(v) for k, v in row.items()}, campaign.default_time_zone,
                           region)
        if isinstance(parsed, str):
            report.rejected.append(Rejection(index, item.phone, parsed))
        else:
            good.append(parsed)
            lines.append(index)
    report.imported, dupes = await asyncio.to_thread(repo.add_contacts, campaign.id, good,
                                                     first_call)
    report.rejected += [Rejection(lines[i], good[i].phone, "duplicate phone number")
                        for i in dupes]
    _wake(request)
    return report.to_json()


@router.post("/{name}/import", dependencies=[Depends(auth.operator)],
             responses=responses(404, 413, 415),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string", "pattern": TEXT_PATTERN}}}}})
async def import_contacts(name: Name, db: Db, request: Request) -> dict[str, Any]:
    """A CSV file as the body (header row with at least 'phone'). UTF-8 unless the
    Content-Type names a charset (`text/csv; charset=latin-1`) or a BOM says UTF-16."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "text/csv":
        raise HTTPException(415, "send the file with Content-Type: text/csv")
    data = await request.body()
    if len(data) > MAX_CSV_BYTES:
        raise HTTPException(413, f"the file is over {MAX_CSV_BYTES // 1_000_000} MB: split it")
    await asyncio.to_thread(CampaignRepository(db).get, name)  # 404 before judging the file
    region = request.app.state.settings.default_region
    try:
        text = decode_csv(data, request.headers.get("content-type"))
        report = await asyncio.to_thread(import_csv, db, name, text, region=region)
    except CampaignError as exc:
        raise HTTPException(422, str(exc)) from None
    _wake(request)
    return report.to_json()


def _state_change(action: str) -> Callable[..., Awaitable[CampaignPublic]]:
    async def change_state(name: Name, db: Db, request: Request) -> CampaignPublic:
        campaign = await asyncio.to_thread(CampaignRepository(db).set_state, name,
                                           ACTIONS[action], reason="paused by an operator")
        _wake(request)
        return await _public(db, campaign)

    return change_state


# One route per action (not /{name}/{action}): a POST to /{name}/report is then a 405 that
# lists the methods the URL has, as the document says, not a 422 about the word "report".
for _action in ACTIONS:
    router.add_api_route(f"/{{name}}/{_action}", _state_change(_action), methods=["POST"],
                         response_model=CampaignPublic, dependencies=[Depends(auth.operator)],
                         responses=responses(404, 409), name=f"{_action}_campaign",
                         summary=f"{_action.capitalize()} a campaign")


@router.get("/{name}/report", responses=responses(404))
async def report(name: Name, db: Db) -> dict[str, object]:
    return (await asyncio.to_thread(reports.build, db, name)).to_json()


# response_class=Response (no media type of its own) so the error responses are documented as
# the JSON they are; the 200 is documented as what it is, text/csv.
@router.get("/{name}/report.csv", response_class=Response, responses={
    **responses(404), 200: {"description": "the report as CSV",
                            "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def report_csv(name: Name, db: Db) -> Response:
    built = await asyncio.to_thread(reports.build, db, name)
    return Response(reports.to_csv(built), media_type="text/csv", headers={
        "Content-Disposition": _attachment(f"{name}-report.csv")})


def _attachment(filename: str) -> str:
    """A header that survives any name (an outage area in Cyrillic, a CR): an ASCII fallback
    plus the exact name percent-encoded (RFC 6266); raw, a non-Latin-1 name crashed the reply."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
