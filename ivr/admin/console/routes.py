"""The console's router: every page module's routes under /console (and / redirects there)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from ivr.admin.console import (
    pages_auth,
    pages_campaigns,
    pages_customers,
    pages_flows,
    pages_reports,
)
from ivr.admin.console.web import STATIC_DIR

router = APIRouter(include_in_schema=False)
for module in (pages_auth, pages_flows, pages_reports, pages_customers, pages_campaigns):
    router.include_router(module.router)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


__all__ = ["STATIC_DIR", "router"]
