"""Request dependencies shared by the admin routes (auth itself is in `ivr.admin.auth`).

The app provides ``app.state.settings`` and ``app.state.db``; the transfer contexts (kept in that
database) are read through ``app.state.live_contexts`` (created on first use if the app set none).
"""

from __future__ import annotations

from fastapi import Request

from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.store.db import Database


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def live_contexts(request: Request) -> LiveContexts:
    state = request.app.state
    if not hasattr(state, "live_contexts"):
        state.live_contexts = LiveContexts(database(request))
    registry: LiveContexts = state.live_contexts
    return registry
