"""The one place that turns domain errors into JSON problem responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ivr.errors import IvrError
from ivr.flows.errors import FlowNotFound, FlowSyntaxError, FlowValidationError
from ivr.store.errors import Conflict, NotFound, StoreError


def _problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    return JSONResponse({"title": title, "status": status, "detail": detail, **extra}, status)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return _problem(404, "not found", str(exc))


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return _problem(409, "conflict", str(exc))


async def _invalid_flow(request: Request, exc: Exception) -> JSONResponse:
    issues = exc.issues if isinstance(exc, FlowValidationError) else [
        exc.issue] if isinstance(exc, FlowSyntaxError) else []
    return _problem(422, "invalid flow", f"{len(issues)} problems",
                    issues=[i.to_json() for i in issues])


async def _bad_request(request: Request, exc: Exception) -> JSONResponse:
    return _problem(400, "bad request", str(exc))


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(FlowNotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(FlowValidationError, _invalid_flow)
    app.add_exception_handler(FlowSyntaxError, _invalid_flow)
    app.add_exception_handler(StoreError, _bad_request)
    app.add_exception_handler(IvrError, _bad_request)
