"""Bearer-token auth with roles: viewer (read) < operator (run campaigns) < admin (edit, publish).

Wrong or missing token -> 401; a valid token without the role -> 403.

The web console keeps the token in an HttpOnly cookie (set by its login page), so the browser can
call the same API. A cookie rides along on cross-site requests too, so a cookie-borne token is
accepted for a state-changing method only with the console's own header, which a foreign page
cannot send without a CORS preflight we never grant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ivr.store.db import Database
from ivr.store.repositories.tokens import ApiToken, TokenRepository

ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}
COOKIE_NAME = "ivr_token"
CONSOLE_HEADER = "X-IVR-Console"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_bearer = HTTPBearer(auto_error=False, description="an API token from `ivr admin token create`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def presented_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> str | None:
    """The token from the Authorization header, else from the console's cookie."""
    if credentials is not None:
        return credentials.credentials
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    if request.method not in SAFE_METHODS and request.headers.get(CONSOLE_HEADER) != "1":
        raise HTTPException(403, f"a cookie-authenticated {request.method} needs the "
                            f"{CONSOLE_HEADER}: 1 header (cross-site request refused)")
    return cookie


def require(role: str) -> Callable[..., Awaitable[ApiToken]]:
    """A dependency that admits tokens with `role` or a higher one."""
    needed = ROLE_RANK[role]

    async def check(request: Request, credentials: Credentials) -> ApiToken:
        secret = presented_token(request, credentials)
        if secret is None:
            raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})
        repo = TokenRepository(database(request))
        token = await asyncio.to_thread(repo.authenticate, secret)
        if token is None:
            raise HTTPException(401, "invalid or revoked token: create one with "
                                "'ivr admin token create'", headers={"WWW-Authenticate": "Bearer"})
        if ROLE_RANK[token.role] < needed:
            raise HTTPException(403, f"this needs the {role} role; the token has {token.role}")
        return token

    return check


viewer = require("viewer")
operator = require("operator")
admin = require("admin")
