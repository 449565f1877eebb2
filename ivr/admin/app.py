"""The admin HTTP application (FastAPI): the API under /api, OpenAPI docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from ivr import __version__
from ivr.admin import problems
from ivr.admin.routes import flows
from ivr.config import Settings
from ivr.store.db import Database


def create_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="ivr admin", version=__version__)
    app.state.settings = settings
    app.state.db = db
    problems.install(app)
    app.include_router(flows.router)

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
