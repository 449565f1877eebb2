"""Reports: charts of every report on one page, each with its table as CSV."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from ivr.admin.console.reports import REPORTS, Table, chart_spec
from ivr.admin.console.web import Viewer, db_of, page
from ivr.store.db import Database

router = APIRouter(prefix="/console")
Days = Query(7, ge=1, le=90, description="how many days back")


def _since(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def _all(db: Database, since: datetime) -> dict[str, Table]:
    return {name: build(db, since) for name, build in REPORTS.items()}


@router.get("/reports")
async def reports(request: Request, token: Viewer, days: int = Days) -> HTMLResponse:
    tables = await asyncio.to_thread(_all, db_of(request), _since(days))
    charts = [{"name": name, "table": table, "spec": chart_spec(name, table)}
              for name, table in tables.items()]
    return page(request, "reports.html", token, charts=charts, days=days)


@router.get("/reports/{name}.csv")
async def report_csv(request: Request, name: str, _: Viewer, days: int = Days) -> Response:
    build = REPORTS.get(name)
    if build is None:
        raise HTTPException(404, f"no report named {name!r}: one of {', '.join(REPORTS)}")
    table = await asyncio.to_thread(build, db_of(request), _since(days))
    return Response(table.csv(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}-{days}d.csv"'})
