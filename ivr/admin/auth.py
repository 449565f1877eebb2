"""Bearer-token auth with roles: viewer (read) < operator (run campaigns) < admin (edit, publish).

Wrong or missing token -> 401; a valid token without the role -> 403.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ivr.store.db import Database
from ivr.store.repositories.tokens import ApiToken, TokenRepository

ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}
_bearer = HTTPBearer(auto_error=False, description="an API token from `ivr admin token create`")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def require(role: str) -> Callable[..., Awaitable[ApiToken]]:
    """A dependency that admits tokens with `role` or a higher one."""
    needed = ROLE_RANK[role]

    async def check(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> ApiToken:
        if credentials is None:
            raise HTTPException(401, "missing bearer token: send 'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})
        repo = TokenRepository(database(request))
        token = await asyncio.to_thread(repo.authenticate, credentials.credentials)
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
