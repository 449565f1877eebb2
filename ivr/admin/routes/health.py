"""Probes for load balancers and systemd, without a token: /api/health says the process answers
(liveness), /api/ready says whether it can serve calls now (database, AMI, speech).

`ivr serve` puts the AMI client on `app.state.ami` and the media path on `app.state.media`;
an app without them (tests, a console-only process) reports those parts as not configured.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from ivr import __version__, metrics
from ivr.store.db import Database

router = APIRouter(tags=["health"])
DB_TIMEOUT = 3.0  # a probe must answer before the balancer's own timeout, whatever the DB does


@router.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/metrics", include_in_schema=False)
async def prometheus() -> Response:
    """Prometheus metrics (ivr/metrics.py), without a token like the probes."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


@router.get("/api/ready", responses={503: {"description": "a part is not ready"}})
async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    parts = {
        "database": await _database(state.db),
        "ami": _ami(getattr(state, "ami", None)),
        "speech": _speech(getattr(state, "media", None)),
    }
    failed = [name for name, part in parts.items() if part["status"] == "fail"]
    body = {"status": "fail" if failed else "ok", "failed": failed, "parts": parts}
    return JSONResponse(body, status_code=503 if failed else 200)


def _ping(db: Database) -> None:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _database(db: Database) -> dict[str, str]:
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping, db), DB_TIMEOUT)
    except TimeoutError:
        return {"status": "fail", "detail": f"no answer in {DB_TIMEOUT:.0f} s"}
    except Exception as err:  # any driver error means not ready; the probe must not raise
        return {"status": "fail", "detail": str(err).strip().splitlines()[0]}
    return {"status": "ok"}


def _ami(ami: Any) -> dict[str, str]:
    if ami is None:
        return {"status": "not configured"}
    if not ami.connected:
        return {"status": "fail", "detail": "not logged in to AMI (reconnecting)"}
    return {"status": "ok"}


def _speech(media: Any) -> dict[str, str]:
    """Ready when at least one language has its engine loaded; keys still work without."""
    if media is None or media.pool is None:
        return {"status": "not configured"}
    loaded = media.pool.loaded()
    if not loaded and getattr(media, "loading", False):
        return {"status": "fail", "detail": "speech engines still loading (keys work meanwhile)"}
    if not loaded:
        return {"status": "fail", "detail": "no speech engine loaded (see the start-up log)"}
    return {"status": "ok", "detail": ", ".join(f"{lang}: {e.name}" for lang, e in
                                                 sorted(loaded.items()))}
