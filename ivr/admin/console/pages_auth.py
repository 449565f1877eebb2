"""Sign in by pasting a token, which opens a server-side session (its random id goes in an
HttpOnly, SameSite=Strict cookie; the token itself never does), and sign out, which ends it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ivr.admin.auth import COOKIE_NAME
from ivr.admin.console.web import LOGIN_PATH, db_of, page, settings_of, signed_in
from ivr.store.repositories.console_sessions import ConsoleSessionRepository
from ivr.store.repositories.tokens import TokenRepository

router = APIRouter(prefix="/console")


def _safe_next(target: str) -> str:
    # Only local console paths: an open redirect would let a link send users elsewhere.
    ok = target.startswith("/console/") and not target.startswith("//") and "\\" not in target
    return target if ok else "/console/"


@router.get("/login")
async def login_form(request: Request, next: str = "/console/") -> HTMLResponse:
    return page(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login", response_model=None)
async def login(
    request: Request, token: Annotated[str, Form()], next: Annotated[str, Form()] = "/console/",
) -> Response:
    secret = token.strip()
    found = await asyncio.to_thread(TokenRepository(db_of(request)).authenticate, secret)
    if found is None:
        return page(request, "login.html", None, next=_safe_next(next),
                    error="That token is not valid (or was revoked). Create one with "
                          "'ivr admin token create --role admin'.")
    lifetime = settings_of(request).console_session_seconds
    sessions = ConsoleSessionRepository(db_of(request))
    session_id = await asyncio.to_thread(sessions.open, found.id, timedelta(seconds=lifetime))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE_NAME, session_id, max_age=lifetime, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    session_id = request.cookies.get(COOKIE_NAME)
    if session_id:  # ended on the server: a copy of the cookie kept elsewhere is dead too
        await asyncio.to_thread(ConsoleSessionRepository(db_of(request)).close, session_id)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


@router.get("/")
async def home(request: Request) -> RedirectResponse:
    token = await signed_in(request)
    return RedirectResponse("/console/flows" if token else LOGIN_PATH, status_code=303)
