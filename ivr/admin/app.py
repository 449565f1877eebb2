"""The admin HTTP application (FastAPI). Routes for flows, campaigns and reports join it later."""

from __future__ import annotations

from fastapi import FastAPI

from ivr import __version__


def create_app() -> FastAPI:
    app = FastAPI(title="ivr admin", version=__version__)

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
