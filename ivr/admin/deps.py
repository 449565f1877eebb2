"""Request dependencies for the customers/interactions routes.

``require_token`` is a stand-in until role-based tokens (issue 8) cover these routes: it
admits ``Authorization: Bearer <IVR_ADMIN_TOKEN>`` and refuses everything when the setting is
unset. The app provides ``app.state.settings`` and ``app.state.db``; the live transfer
contexts live in ``app.state.live_contexts`` (created on first use if the app set none).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.store.db import Database

_bearer = HTTPBearer(auto_error=False, description="the value of IVR_ADMIN_TOKEN")


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def live_contexts(request: Request) -> LiveContexts:
    state = request.app.state
    if not hasattr(state, "live_contexts"):
        state.live_contexts = LiveContexts()
    registry: LiveContexts = state.live_contexts
    return registry


async def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected = settings(request).admin_token
    if not expected:
        raise HTTPException(401, "the admin API is closed: set IVR_ADMIN_TOKEN",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong bearer token",
                            headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
