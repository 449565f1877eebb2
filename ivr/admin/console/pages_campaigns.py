"""Campaigns: create from a template, upload contacts (with the rejection report), start, pause,
resume, and live progress that htmx polls. Built on the campaign repositories in-process until
a campaigns JSON API exists. State changes are htmx posts carrying the console header."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from ivr.admin.auth import CONSOLE_HEADER
from ivr.admin.console.web import (
    Operator,
    Viewer,
    db_of,
    fragment,
    page,
    settings_of,
    templates,
)
from ivr.admin.routes.campaigns import CampaignCreate
from ivr.campaigns.csv_import import import_csv
from ivr.store.db import Database
from ivr.store.domain import CampaignSpec
from ivr.store.errors import Conflict, NotFound
from ivr.store.models import CampaignContactRow
from ivr.store.repositories.audit import AuditRepository
from ivr.store.repositories.campaigns import CampaignRepository

router = APIRouter(prefix="/console")
MAX_CSV_BYTES = 5 * 1024 * 1024
TEMPLATES: dict[str, dict[str, str]] = {
    "outage": {"title": "Planned outage notice", "kind": "outage",
               "message": "Hello $name, power in your area will be off on $date for planned "
                          "works. Press 1 to confirm, 2 for a callback, 9 to opt out."},
    "appointment": {"title": "Appointment reminder", "kind": "appointment",
                    "message": "Hello $name, our engineer visits you on $date. Press 1 to "
                               "confirm, 2 to rearrange, 9 to opt out."},
    "bill-limit": {"title": "Bill over limit", "kind": "bill",
                   "message": "Hello $name, your bill forecast is over your limit. Press 1 "
                              "to confirm, 2 for a callback, 9 to opt out."},
}
ACTIONS = {"start": "running", "pause": "paused", "resume": "running"}


def _from_console(request: Request) -> None:
    # The cookie rides on cross-site posts too; only the console's own scripts add this header.
    if request.headers.get(CONSOLE_HEADER) != "1":
        raise HTTPException(403, f"send {CONSOLE_HEADER}: 1 (cross-site request refused)")


def _results(db: Database, campaign_id: int) -> dict[str, int]:
    query = (select(CampaignContactRow.result, func.count())
             .where(CampaignContactRow.campaign_id == campaign_id)
             .group_by(CampaignContactRow.result))
    with db.session() as s:
        return {str(r or "open"): int(n) for r, n in s.execute(query)}


def _status(db: Database, name: str) -> dict[str, Any]:
    repo = CampaignRepository(db)
    campaign = repo.get(name)
    counts = repo.progress(campaign.id)
    total = sum(counts.values())
    finished = counts["done"] + counts["failed"] + counts["cancelled"]
    return {"campaign": campaign, "counts": counts, "total": total, "finished": finished,
            "percent": round(100 * finished / total) if total else 0,
            "results": _results(db, campaign.id)}


@router.get("/campaigns")
async def campaigns(request: Request, token: Viewer) -> HTMLResponse:
    db = db_of(request)
    names = [c.name for c in await asyncio.to_thread(CampaignRepository(db).all)]
    rows = [await asyncio.to_thread(_status, db, n) for n in names]
    return page(request, "campaigns.html", token, rows=rows, templates=TEMPLATES)


@router.post("/campaigns")
async def create(request: Request, token: Operator, name: Annotated[str, Form()],
                 template: Annotated[str, Form()]) -> Response:
    _from_console(request)
    preset = TEMPLATES.get(template)
    if preset is None:
        return fragment(request, "Pick a template.", 422)
    name = name.strip(" ")  # spaces only: a CR or LF in a name is refused, not trimmed
    try:  # the API's rule for names, so both doors accept the same names
        CampaignCreate(name=name)
    except ValidationError:
        return fragment(request, f"A campaign name is 1 to 100 letters, digits, '_', '.' or "
                        f"'-'; {name!r} is not one.", 422)
    spec = CampaignSpec(name=name, kind=preset["kind"], message=preset["message"])
    repo = CampaignRepository(db_of(request))
    try:
        await asyncio.to_thread(repo.create, spec)
    except Conflict as err:
        return fragment(request, str(err), 409)
    await asyncio.to_thread(AuditRepository(db_of(request)).write, token.name,
                            "campaign.create", spec.name, {"template": template})
    return Response(status_code=204, headers={"HX-Redirect": f"/console/campaigns/{spec.name}"})


@router.get("/campaigns/{name}")
async def campaign(request: Request, name: str, token: Viewer) -> HTMLResponse:
    try:
        status = await asyncio.to_thread(_status, db_of(request), name)
    except NotFound as err:
        raise HTTPException(404, str(err)) from None
    return page(request, "campaign.html", token, **status)


@router.get("/campaigns/{name}/progress")
async def progress(request: Request, name: str, _: Viewer) -> HTMLResponse:
    status = await asyncio.to_thread(_status, db_of(request), name)
    return templates.TemplateResponse(request, "campaign_progress.html", status)


@router.post("/campaigns/{name}/contacts")
async def upload(request: Request, name: str, token: Operator, file: UploadFile) -> HTMLResponse:
    _from_console(request)
    data = await file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        return fragment(request, "The file is over 5 MB.", 413)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return fragment(request, "The file is not UTF-8 text.", 422)
    region = settings_of(request).default_region
    report = await asyncio.to_thread(import_csv, db_of(request), name, text, region=region)
    await asyncio.to_thread(AuditRepository(db_of(request)).write, token.name,
                            "campaign.upload", name,
                            {"imported": report.imported, "rejected": len(report.rejected)})
    return templates.TemplateResponse(request, "campaign_upload.html", {"report": report})


@router.post("/campaigns/{name}/{action}")
async def change_state(request: Request, name: str, action: str, token: Operator
                       ) -> HTMLResponse:
    _from_console(request)
    state = ACTIONS.get(action)
    if state is None:
        raise HTTPException(404, f"no action {action!r}: start, pause or resume")
    db = db_of(request)
    try:
        await asyncio.to_thread(CampaignRepository(db).set_state, name, state)
    except Conflict as err:
        raise HTTPException(409, str(err)) from None
    await asyncio.to_thread(AuditRepository(db).write, token.name, f"campaign.{action}", name)
    status = await asyncio.to_thread(_status, db, name)
    return templates.TemplateResponse(request, "campaign_progress.html", status)
