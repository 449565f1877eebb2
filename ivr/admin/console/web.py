"""What every console page shares: templates, the signed-in token from the session cookie,
redirects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ivr.admin.auth import ROLE_RANK, session_token
from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.repositories.tokens import ApiToken

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
# One path segment of a URL (a campaign name from an event may hold '/', '?' or '#').
templates.env.filters["segment"] = lambda value: quote(str(value), safe="")
LOGIN_PATH = "/console/login"


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def signed_in(request: Request) -> ApiToken | None:
    return await session_token(request)


def _needs(role: str) -> Any:
    async def check(request: Request) -> ApiToken:
        token = await signed_in(request)
        if token is None:
            # Pages answer a missing sign-in with the login page, not a JSON 401.
            target = request.url.path
            raise HTTPException(303, "sign in first",
                                headers={"Location": f"{LOGIN_PATH}?next={target}"})
        if ROLE_RANK[token.role] < ROLE_RANK[role]:
            raise HTTPException(403, f"this page needs the {role} role; you have {token.role}")
        return token

    return check


Viewer = Annotated[ApiToken, Depends(_needs("viewer"))]
Operator = Annotated[ApiToken, Depends(_needs("operator"))]


def fragment(request: Request, message: str, status: int = 200) -> HTMLResponse:
    """An error message for htmx to swap in. Rendered by Jinja so the text is always escaped:
    it may quote what the user typed (issue 13: a raw f-string here ran injected script)."""
    return templates.TemplateResponse(request, "alert.html", {"message": message},
                                      status_code=status)


def page(request: Request, template: str, token: ApiToken | None, **context: Any) -> HTMLResponse:
    """Render a page with the navigation's context (who is signed in, which section is open)."""
    context.setdefault("section", template.split(".")[0])
    return templates.TemplateResponse(
        request, template, {"token": token, "can_edit": bool(token and token.role == "admin"),
                        "can_operate": bool(token and ROLE_RANK[token.role] >= 1), **context},
    )
