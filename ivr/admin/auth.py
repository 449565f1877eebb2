"""Bearer-token auth with roles: viewer (read) < operator (run campaigns) < admin (edit, publish).

Wrong or missing token -> 401; a valid token without the role -> 403.

The web console signs in with a token and then holds only a server-side session id in an
HttpOnly cookie (ivr.store.repositories.console_sessions: expiry, idle timeout, sign-out and
token revocation end it), so the browser can call the same API without ever keeping the token.
A cookie rides along on cross-site requests too, so a cookie session is accepted for a
state-changing method only with the console's own header, which a foreign page cannot send
without a CORS preflight we never grant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.repositories.console_sessions import ConsoleSessionRepository
from ivr.store.repositories.tokens import ApiToken, TokenRepository

ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}
COOKIE_NAME = "ivr_session"
CONSOLE_HEADER = "X-IVR-Console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="an API token from `ivr admin token create`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def session_token(request: Request) -> ApiToken | None:
    """The live token behind the console's session cookie, or None (no, unknown or ended
    session: expired, idle too long, signed out, or its token revoked)."""
    session_id = request.cookies.get(COOKIE_NAME)
    if not session_id:
        return None
    settings: Settings = request.app.state.settings
    idle = timedelta(seconds=settings.console_idle_seconds)
    repo = ConsoleSessionRepository(database(request))
    return await asyncio.to_thread(repo.resolve, session_id, idle)


async def presented_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> ApiToken | None:
    """The token of the Authorization header, else of the console's session; None if neither
    is live. Raises 401 only for a missing credential."""
    if credentials is not None:
        repo = TokenRepository(database(request))
        return await asyncio.to_thread(repo.authenticate, credentials.credentials)
    if not request.cookies.get(COOKIE_NAME):
        raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS and request.headers.get(CONSOLE_HEADER) != "1":
        raise HTTPException(403, f"a cookie-authenticated {request.method} needs the "
                            f"{CONSOLE_HEADER}: 1 header (cross-site request refused)")
    return await session_token(request)


def require(role: str) -> Callable[..., Awaitable[ApiToken]]:
    """A dependency that admits tokens with `role` or a higher one."""
    needed = ROLE_RANK[role]

    async def check(request: Request, credentials: Credentials) -> ApiToken:
        token = await presented_token(request, credentials)
        if token is None:
            raise HTTPException(401, "invalid or revoked token, or an ended console session: "
                                "create a token with 'ivr admin token create' (or sign in "
                                "again)", headers={"WWW-Authenticate": "Bearer"})
        if ROLE_RANK[token.role] < needed:
            raise HTTPException(403, f"this needs the {role} role; the token has {token.role}")
        return token

    return check


viewer = require("viewer")
operator = require("operator")
admin = require("admin")
