"""Customers: search (live, via htmx) and one customer's journey across channels. The pages call
the customers API's handlers in-process, so they show exactly what the API returns."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ivr.admin.console.web import Viewer, db_of, page, templates
from ivr.admin.routes import customers as api

router = APIRouter(prefix="/console")
Search = Query("", max_length=200)


@router.get("/customers")
async def customers(request: Request, token: Viewer, q: str = Search) -> HTMLResponse:
    found = await api.search_customers(db_of(request), q or None, 20, 0)
    return page(request, "customers.html", token, q=q, customers=found)


@router.get("/customers-results")
async def results(request: Request, _: Viewer, q: str = Search) -> HTMLResponse:
    """The result rows alone, for the search box to swap in as the user types."""
    found = await api.search_customers(db_of(request), q or None, 20, 0)
    return templates.TemplateResponse(request, "customer_rows.html",
                                      {"customers": found, "q": q})


@router.get("/customers/{customer_id}")
async def customer(request: Request, customer_id: int, token: Viewer) -> HTMLResponse:
    db = db_of(request)
    person = await api.get_customer(db, customer_id)
    journey = await api.customer_journey(db, customer_id, 100)
    return page(request, "customer.html", token, customer=person, journey=journey)
