"""Flow pages: the list and the editor (YAML with inline problems, graph, diff, publish and
roll back, simulator). Edits go to the JSON API from the browser; the page is rendered here."""

from __future__ import annotations

import asyncio
import contextlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from markupsafe import Markup, escape

from ivr.admin.console.graph import flow_svg
from ivr.admin.console.web import Viewer, db_of, page, settings_of
from ivr.flows.cli import list_rows
from ivr.flows.errors import FlowError
from ivr.flows.validate import compile_flow
from ivr.store.repositories.flows import FlowRepository

router = APIRouter(prefix="/console")
PROMPT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
STARTER = """flow: {name}
language: en
description: ""
start: hello
nodes:
  hello:
    type: play
    prompt: ivr/goodbye
    next: bye
  bye:
    type: hangup
"""


@lru_cache(maxsize=4)
def _catalog(path: Path, mtime: float) -> dict[str, dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): {str(lang): str(text) for lang, text in v.items()}
            for k, v in data.items() if isinstance(v, dict)}


def prompt_texts(prompts_dir: Path) -> dict[str, dict[str, str]]:
    """Prompt id -> language -> text, from the catalog (empty when there is none)."""
    path = prompts_dir / "catalog.yaml"
    if not path.is_file():
        return {}
    try:
        return _catalog(path, path.stat().st_mtime)
    except (yaml.YAMLError, AttributeError):
        return {}


def graph_markup(text: str) -> Markup:
    try:
        flow = compile_flow(text, "<flow>")
    except FlowError:
        return Markup('<p class="muted">The graph appears once the flow validates.</p>')
    return flow_svg(flow.model)


@router.get("/flows")
async def flows(request: Request, token: Viewer) -> HTMLResponse:
    rows = await asyncio.to_thread(list_rows, db_of(request))
    keys = ("name", "published", "latest", "routes")
    return page(request, "flows.html", token,
                flows=[dict(zip(keys, row, strict=True)) for row in rows])


def _editor_context(request: Request, name: str, version: int | None) -> dict[str, Any]:
    versions = FlowRepository(db_of(request)).versions(name)
    chosen = next((v for v in versions if v.version == version), None) if version else (
        versions[-1] if versions else None)
    if version and chosen is None:
        raise HTTPException(404, f"flow {name!r} has no version {version}")
    text = chosen.yaml if chosen else STARTER.format(name=name)
    language = "en"
    with contextlib.suppress(FlowError):  # an invalid text is shown as is, in English
        language = compile_flow(text, "<flow>").model.language or "en"
    return {"name": name, "versions": versions, "chosen": chosen, "yaml": text,
            "graph": graph_markup(text), "language": language,
            "published": next((v.version for v in versions if v.state == "published"), None)}


@router.get("/flows/{name}")
async def editor(request: Request, name: str, token: Viewer, version: int | None = None,
                 ) -> HTMLResponse:
    context = await asyncio.to_thread(_editor_context, request, name, version)
    texts = prompt_texts(settings_of(request).prompts_dir)
    return page(request, "flow.html", token, section="flows", prompt_texts=texts, **context)


@router.post("/flows-graph")
async def graph(_: Viewer, text: Annotated[str, Body(embed=True, alias="yaml")]) -> HTMLResponse:
    """The graph of a flow text, as SVG to drop into the editor."""
    markup = await asyncio.to_thread(graph_markup, text)
    return HTMLResponse(str(markup))


@router.get("/prompts/{language}/{prompt_id}.wav")
async def prompt_audio(request: Request, language: str, prompt_id: str, _: Viewer
                       ) -> FileResponse:
    """A rendered prompt (flows play it as `ivr/<id>`), so the simulator can be heard."""
    if not (LANGUAGE.match(language) and PROMPT_ID.match(prompt_id)):
        raise HTTPException(404, "no such prompt")
    path = settings_of(request).prompts_dir / language / f"{prompt_id}.wav"
    if not path.is_file():
        raise HTTPException(404, f"prompt {escape(prompt_id)} is not rendered for {language}")
    return FileResponse(path, media_type="audio/wav")
