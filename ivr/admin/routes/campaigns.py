"""Campaigns in the admin API: create, contacts (JSON or CSV), start/pause/resume/cancel, live
progress and reports (JSON and CSV)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from ivr.admin import auth
from ivr.admin.deps import database
from ivr.campaigns import reports
from ivr.campaigns.csv_import import ImportReport, Rejection, import_csv, parse_row
from ivr.campaigns.errors import CampaignError
from ivr.campaigns.scheduler import first_call
from ivr.store.db import Database
from ivr.store.domain import DEFAULT_RETRY_SECONDS, Campaign, CampaignSpec, NewContact
from ivr.store.repositories.campaigns import CampaignRepository

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"],
                   dependencies=[Depends(auth.viewer)])  # fmt: skip
Db = Annotated[Database, Depends(database)]
ACTIONS = {"start": "running", "resume": "running", "pause": "paused", "cancel": "cancelled"}


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.-]+$")
    kind: str = "custom"
    message: str = ""
    prompts: list[str] = []
    window_start: str = Field("08:00", pattern=r"^\d\d:\d\d$")
    window_end: str = Field("21:00", pattern=r"^\d\d:\d\d$")
    holidays: list[str] = []
    max_attempts: int = Field(3, ge=1, le=10)
    retry_seconds: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RETRY_SECONDS))
    daily_cap: int = Field(3, ge=1, le=10)
    priority: int = 0
    max_channels: int = Field(10, ge=1)
    calls_per_second: float = Field(5.0, gt=0)
    default_time_zone: str = "UTC"


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
    phone: str
    name: str = ""
    time_zone: str = ""
    email: str | None = None
    language: str = "en"
    channel: Literal["voice", "sms", "email"] = "voice"
    variables: dict[str, str] = {}


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
             dependencies=[Depends(auth.operator)])
async def create_campaign(body: CampaignCreate, db: Db) -> CampaignPublic:
    try:
        spec = CampaignSpec(**{**body.model_dump(), "prompts": tuple(body.prompts),
                               "holidays": tuple(body.holidays),
                               "window_start": _minutes(body.window_start),
                               "window_end": _minutes(body.window_end)})
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    campaign = await asyncio.to_thread(CampaignRepository(db).create, spec)
    return await _public(db, campaign)


@router.get("/{name}", response_model=CampaignPublic)
async def get_campaign(name: str, db: Db) -> CampaignPublic:
    return await _public(db, await asyncio.to_thread(CampaignRepository(db).get, name))


@router.post("/{name}/contacts", dependencies=[Depends(auth.operator)])
async def add_contacts(name: str, body: list[ContactIn], db: Db, request: Request
                       ) -> dict[str, Any]:
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


@router.post("/{name}/import", dependencies=[Depends(auth.operator)])
async def import_contacts(name: str, db: Db, request: Request,
                          text: Annotated[str, Body(media_type="text/csv")]) -> dict[str, Any]:
    """A CSV file as the body (header row with at least 'phone')."""
    region = request.app.state.settings.default_region
    try:
        report = await asyncio.to_thread(import_csv, db, name, text, region=region)
    except CampaignError as exc:
        raise HTTPException(422, str(exc)) from None
    _wake(request)
    return report.to_json()


@router.post("/{name}/{action}", response_model=CampaignPublic,
             dependencies=[Depends(auth.operator)])
async def change_state(name: str, action: Literal["start", "pause", "resume", "cancel"],
                       db: Db, request: Request) -> CampaignPublic:
    campaign = await asyncio.to_thread(CampaignRepository(db).set_state, name, ACTIONS[action],
                                       reason="paused by an operator")
    _wake(request)
    return await _public(db, campaign)


@router.get("/{name}/report")
async def report(name: str, db: Db) -> dict[str, object]:
    return (await asyncio.to_thread(reports.build, db, name)).to_json()


@router.get("/{name}/report.csv", response_class=PlainTextResponse)
async def report_csv(name: str, db: Db) -> PlainTextResponse:
    built = await asyncio.to_thread(reports.build, db, name)
    return PlainTextResponse(reports.to_csv(built), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}-report.csv"'})
