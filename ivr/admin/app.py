"""The admin HTTP application (FastAPI): the API under /api, OpenAPI docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ivr import __version__
from ivr.admin import console, problems
from ivr.admin.console.security import SecurityHeaders
from ivr.admin.routes import campaigns, customers, events, flows, health, interactions
from ivr.config import Settings
from ivr.store.db import Database


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="ivr admin", version=__version__)
    app.state.settings = settings
    app.state.db = db
    problems.install(app)
    app.add_middleware(SecurityHeaders)
    app.include_router(health.router)
    app.include_router(flows.router)
    app.include_router(customers.router)
    app.include_router(interactions.router)
    app.include_router(campaigns.router)
    app.include_router(events.router)
    app.include_router(console.router)
    app.mount("/console/static", StaticFiles(directory=console.STATIC_DIR), name="console-static")

    return app
