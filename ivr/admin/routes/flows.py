"""Flows in the admin API: read, validate, save versions, publish, roll back, diff, simulate."""

from __future__ import annotations

import asyncio
import difflib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

from ivr.admin import auth
from ivr.admin.fields import Id, Text, refuse_bad_text
from ivr.admin.problems import RESPONSES, invalid_flow, responses
from ivr.admin.simulate import simulate
from ivr.config import Settings
from ivr.flows.catalog import FlowCatalog
from ivr.flows.cli import list_rows, publish
from ivr.flows.errors import FlowSyntaxError, FlowValidationError
from ivr.flows.prompts import load_catalog
from ivr.flows.store_services import StoreServices
from ivr.flows.validate import compile_flow
from ivr.phone import prompt_lookup
from ivr.store.db import Database
from ivr.store.domain import FlowVersion
from ivr.store.errors import NotFound
from ivr.store.repositories.audit import AuditRepository
from ivr.store.repositories.flows import FlowRepository
from ivr.store.repositories.tokens import ApiToken

router = APIRouter(prefix="/api", tags=["flows"], responses=RESPONSES)
Db = Annotated[Database, Depends(auth.database)]
Viewer = Annotated[ApiToken, Depends(auth.viewer)]
Admin = Annotated[ApiToken, Depends(auth.admin)]
FlowName = Annotated[Text, Path(max_length=100)]
Dnis = Annotated[Text, Path(max_length=32)]
VersionNumber = Annotated[Id, Path()]
MAX_FLOW_CHARS = 1_000_000
# The `ivr call --input` forms an API caller may use: never `wav:<path>`, which would open a
# file on the server's disk; waits and keys short (the call is on a fast clock anyway).
SIM_INPUT = r"^(dtmf:[0-9*#A-D]{1,32}|wait:[0-9]{1,3}(\.[0-9]{1,3})?|hangup|say:[^\x00]{1,200})$"


class FlowText(BaseModel):
    yaml: Text = Field(max_length=MAX_FLOW_CHARS, description="the flow file's text")


class PublishRequest(BaseModel):
    version: Id | None = Field(None, description="default: the latest version")


class SimulateRequest(BaseModel):
    caller: Text = Field("+15551230001", max_length=32)
    dnis: Text = Field("18005550100", max_length=32)
    inputs: list[Annotated[str, Field(pattern=SIM_INPUT), AfterValidator(refuse_bad_text)]] = Field(
        default_factory=list, max_length=200, description="dtmf:1, wait:2, say:billing …")
    version: Id | None = Field(None, description="default: the latest version (even a draft)")


class RouteRequest(BaseModel):
    flow: Text = Field(max_length=100, description="the flow that answers this number")


class VersionPublic(BaseModel):
    name: str
    version: int
    state: str
    created_at: datetime
    created_by: str
    published_at: datetime | None


def _public(v: FlowVersion) -> VersionPublic:
    return VersionPublic(name=v.flow_name, version=v.version, state=v.state,
                         created_at=v.created_at, created_by=v.created_by,
                         published_at=v.published_at)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _prompts(request: Request) -> set[str] | None:
    return load_catalog(_settings(request).prompts_dir / "catalog.yaml")


@router.get("/flows")
def list_flows(db: Db, _: Viewer) -> list[dict[str, str]]:
    keys = ("name", "published", "latest", "routes")
    return [dict(zip(keys, row, strict=True)) for row in list_rows(db)]


@router.get("/flows/{name}", responses=responses(404))
def flow_versions(name: FlowName, db: Db, _: Viewer) -> list[VersionPublic]:
    return [_public(v) for v in FlowRepository(db).versions(name)]


@router.get("/flows/{name}/versions/{number}", responses=responses(404))
def flow_version(name: FlowName, number: VersionNumber, db: Db, _: Viewer) -> dict[str, Any]:
    version = FlowRepository(db).get(name, number)
    return {**_public(version).model_dump(mode="json"), "yaml": version.yaml}


@router.post("/flows/validate")
def validate(body: FlowText, request: Request, _: Viewer) -> dict[str, Any]:
    """The same checks as `ivr flows validate`; problems carry line and column."""
    try:
        flow = compile_flow(body.yaml, "<flow>", prompts=_prompts(request))
    except FlowValidationError as err:
        return {"ok": False, "issues": [i.to_json() for i in err.issues]}
    except FlowSyntaxError as err:
        return {"ok": False, "issues": [err.issue.to_json()]}
    return {"ok": True, "name": flow.name, "issues": []}


@router.post("/flows/{name}/versions", status_code=201, responses=responses(409))
def save_version(
    name: FlowName, body: FlowText, request: Request, db: Db, token: Admin
) -> dict[str, Any]:
    """Store the text as a new draft; it becomes `validated` when it passes every check.
    Invalid text is kept as a draft (so work is never lost) and can never be published."""
    issues: list[dict[str, Any]] = []
    try:
        flow = compile_flow(body.yaml, f"{name}.yaml", prompts=_prompts(request))
        if flow.name != name:
            raise HTTPException(422, f"the file says 'flow: {flow.name}' but the URL says {name}")
    except FlowValidationError as err:
        issues = [i.to_json() for i in err.issues]
    except FlowSyntaxError as err:
        issues = [err.issue.to_json()]
    repo = FlowRepository(db)
    version = repo.create_version(name, body.yaml, token.name)
    if not issues:
        version = repo.set_state(name, version.version, "validated")
    AuditRepository(db).write(token.name, "flow.save", f"{name}@v{version.version}",
                              {"state": version.state, "problems": len(issues)})
    return {**_public(version).model_dump(mode="json"), "issues": issues}


@router.post("/flows/{name}/publish", response_model=VersionPublic,
             responses=responses(404, 409))
def publish_version(name: FlowName, body: PublishRequest, db: Db, token: Admin
                    ) -> VersionPublic | JSONResponse:
    try:
        number = publish(db, name, body.version)
    except (FlowValidationError, FlowSyntaxError) as err:
        return not_compiling(name, err)
    AuditRepository(db).write(token.name, "flow.publish", f"{name}@v{number}")
    return _public(FlowRepository(db).get(name, number))


def not_compiling(name: str, err: Exception) -> JSONResponse:
    """A stored version with problems conflicts with using it (the request itself is fine)."""
    return invalid_flow(err, 409, f"this version of {name} has problems: fix them and save a "
                        "new version")


@router.post("/flows/{name}/rollback", responses=responses(404, 409))
def rollback(name: FlowName, db: Db, token: Admin) -> VersionPublic:
    version = FlowRepository(db).rollback(name)
    AuditRepository(db).write(token.name, "flow.rollback", f"{name}@v{version.version}")
    return _public(version)


@router.get("/flows/{name}/diff", responses=responses(404))
def diff(name: FlowName, a: Annotated[Id, Query()], b: Annotated[Id, Query()], db: Db,
         _: Viewer) -> dict[str, str]:
    repo = FlowRepository(db)
    old, new = repo.get(name, a), repo.get(name, b)
    lines = difflib.unified_diff(
        old.yaml.splitlines(keepends=True), new.yaml.splitlines(keepends=True),
        f"{name}@v{a}", f"{name}@v{b}",
    )
    return {"diff": "".join(lines)}


@router.post("/flows/{name}/simulate", response_model=None, responses=responses(404, 409))
async def simulate_call(
    name: FlowName, body: SimulateRequest, request: Request, db: Db, _: Viewer
) -> dict[str, Any] | JSONResponse:
    """Run a version (by default the latest, drafts included) as a real emulated call."""
    repo = FlowRepository(db)
    versions = await asyncio.to_thread(repo.versions, name)
    chosen = next((v for v in versions if v.version == body.version), None) if body.version \
        else (versions[-1] if versions else None)
    if chosen is None:
        raise NotFound(f"flow {name!r} has no version {body.version or 'at all'}")
    try:
        flow = compile_flow(chosen.yaml, f"{name}@v{chosen.version}", version=chosen.version)
    except (FlowValidationError, FlowSyntaxError) as err:
        return not_compiling(name, err)
    settings = _settings(request)
    language = flow.model.language or "en"
    result = await simulate(
        flow, StoreServices(db, region=settings.default_region), FlowCatalog(db),
        caller=body.caller, dnis=body.dnis, inputs=body.inputs,
        prompts=prompt_lookup(settings.prompts_dir, language), language=language,
    )
    run = result.run
    return {
        "flow": name, "version": chosen.version,
        "outcome": run.outcome if run else "failed", "path": run.path if run else [],
        "intent": run.intent if run else None, "transcript": result.transcript,
    }


@router.get("/routes")
def routes(db: Db, _: Viewer) -> dict[str, str]:
    return FlowRepository(db).routes()


@router.put("/routes/{dnis}", responses=responses(404))
def set_route(dnis: Dnis, body: RouteRequest, db: Db, token: Admin) -> dict[str, str]:
    flow = body.flow
    if flow not in FlowRepository(db).names():
        raise NotFound(f"no flow named {flow!r}: save a version of it first")
    FlowRepository(db).set_route(dnis, flow)
    AuditRepository(db).write(token.name, "route.set", dnis, {"flow": flow})
    return FlowRepository(db).routes()
