"""The one place that turns errors into JSON problem responses, and documents them.

Every error of the API is one shape, ``{title, status, detail}`` (RFC 9457's members, minus
``type``), plus ``errors`` for a request that failed validation and ``issues`` for an invalid
flow. `RESPONSES` / `responses()` put that shape in the OpenAPI document for each status a route
can answer, so the document says what the app really returns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from ivr.errors import IvrError
from ivr.flows.errors import FlowNotFound, FlowSyntaxError, FlowValidationError
from ivr.store.errors import Conflict, DatabaseUnreachable, NotFound, StoreError

API_PREFIX = "/api/"
MAX_TEXT = 300  # a message or location echoed back is cut to this many characters
MAX_ERRORS = 20  # field errors listed in one 422
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error: what went wrong in one line (`detail`), per field for a refused request."""

    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    issues: list[dict[str, Any]] | None = None


WHEN = {
    400: "the request cannot be read (body not decodable) or the store refused it",
    401: "no token, or an unknown or revoked one",
    403: "the token lacks the role, or a cookie-authenticated change lacks X-IVR-Console",
    404: "the named resource does not exist",
    409: "the change conflicts with the current state",
    413: "the body is larger than this route takes",
    415: "the body is not of the media type this route takes",
    422: "a parameter or the body is invalid (each field in `errors`)",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error statuses, each with the problem shape."""
    return {code: {"model": Problem, "description": WHEN[code]} for code in codes}


# Every /api route needs a token (401, 403) and may refuse its input (400 unreadable, 422).
RESPONSES = responses(400, 401, 403, 422)


def clean(text: str) -> str:
    """Text safe to echo in a JSON body: no lone surrogates (they cannot be encoded), cut."""
    safe = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return safe if len(safe) <= MAX_TEXT else safe[:MAX_TEXT] + "…"


def problem(status: int, detail: str, title: str | None = None,
            headers: Mapping[str, str] | None = None, **extra: object) -> JSONResponse:
    title = title or HTTPStatus(status).phrase.lower()
    body = {"title": title, "status": status, "detail": clean(detail), **extra}
    return JSONResponse(body, status, headers=headers)


def _where(loc: Sequence[object]) -> str:
    return ".".join(clean(str(part)) for part in loc) or "request"


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """422 naming each bad field. The input is never echoed: it may be bytes that are not
    UTF-8, NaN or a lone surrogate, none of which JSON can carry (the default handler crashed)."""
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(loc=[p if isinstance(p, int) else clean(str(p)) for p in e["loc"]],
                         msg=clean(str(e["msg"])), type=str(e["type"]))
              for e in list(exc.errors())[:MAX_ERRORS]]
    detail = "; ".join(f"{_where(e.loc)}: {e.msg}" for e in errors[:3])
    return problem(422, detail or "invalid request", "invalid request",
                   errors=[e.model_dump() for e in errors])


async def _http_error(request: Request, exc: Exception) -> Response:
    """HTTPException under /api as a problem (its headers kept: WWW-Authenticate, Allow);
    elsewhere (the console) FastAPI's own answer, which its pages expect."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(API_PREFIX):
        return await http_exception_handler(request, exc)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem(exc.status_code, str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this URL. Starlette names only the first route whose
    path matches, so DELETE /api/campaigns said `Allow: GET`, hiding POST."""
    allowed = {method for method in METHODS for route in request.app.router.routes
               if route.matches({**request.scope, "method": method})[0] == Match.FULL}
    return ", ".join(sorted(allowed))


async def _not_found(request: Request, exc: Exception) -> Response:
    return problem(404, str(exc))


async def _conflict(request: Request, exc: Exception) -> Response:
    return problem(409, str(exc))


async def _invalid_flow(request: Request, exc: Exception) -> Response:
    return invalid_flow(exc)


def invalid_flow(exc: Exception, status: int = 422, detail: str = "") -> JSONResponse:
    """Flow text that does not compile: 422 when it was sent, 409 when it is a stored version
    the request wants to use (publish, simulate), each problem with its line and column."""
    issues = exc.issues if isinstance(exc, FlowValidationError) else [
        exc.issue] if isinstance(exc, FlowSyntaxError) else []
    return problem(status, detail or f"{len(issues)} problems", "invalid flow",
                   issues=[i.to_json() for i in issues])


async def _bad_request(request: Request, exc: Exception) -> Response:
    return problem(400, str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    # The request was fine; the database is down (its address goes to the log, not the client).
    logging.getLogger(__name__).warning("%s %s: %s", request.method, request.url.path, exc)
    return problem(503, "the database is unreachable; try again shortly",
                   headers={"Retry-After": "10"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(FlowNotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(FlowValidationError, _invalid_flow)
    app.add_exception_handler(FlowSyntaxError, _invalid_flow)
    app.add_exception_handler(DatabaseUnreachable, _unavailable)
    app.add_exception_handler(StoreError, _bad_request)
    app.add_exception_handler(IvrError, _bad_request)
