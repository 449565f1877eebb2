"""The flows admin API over HTTP: auth, validation with positions, versions, publish,
rollback, diff and simulation (a real emulated call)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ivr.admin.app import create_app
from ivr.config import Settings
from ivr.flows.files import import_dialplans
from ivr.store.db import Database
from ivr.store.repositories.tokens import TokenRepository

REPO = Path(__file__).parents[2]
MAIN_EN = (REPO / "dialplans" / "main-en.yaml").read_text(encoding="utf-8")
TINY = """flow: tiny
language: en
start: hello
nodes:
  hello:
    type: play
    prompt: ivr/goodbye
    next: bye
  bye:
    type: hangup
"""


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    db = Database(sqlite_url)
    import_dialplans(db, REPO / "dialplans", publish="missing")
    tokens = TokenRepository(db)
    secrets = {role: tokens.create(f"{role}-1", role)[1] for role in ("viewer", "admin")}
    settings = Settings(database_url=sqlite_url, prompts_dir=REPO / "prompts")
    app = create_app(settings, db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ivr.test"
    ) as client:
        yield client, secrets
    db.dispose()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_no_token_or_a_wrong_one_is_401_and_a_weak_role_is_403(api: tuple) -> None:
    client, tokens = api
    assert (await client.get("/api/flows")).status_code == 401
    assert (await client.get("/api/flows", headers=bearer("ivr_nope"))).status_code == 401
    weak = await client.post("/api/flows/main-en/rollback", headers=bearer(tokens["viewer"]))
    assert weak.status_code == 403
    assert "admin role" in weak.json()["detail"]
    listed = await client.get("/api/flows", headers=bearer(tokens["viewer"]))
    assert {f["name"] for f in listed.json()} == {"main-en", "main-ru"}


async def test_validation_errors_carry_line_and_column(api: tuple) -> None:
    client, tokens = api
    broken = TINY.replace("next: bye", "next: nowhere")
    got = (await client.post("/api/flows/validate", json={"yaml": broken},
                             headers=bearer(tokens["viewer"]))).json()
    assert got["ok"] is False
    issue = got["issues"][0]
    assert (issue["line"], issue["column"]) == (8, 11)
    assert "nowhere" in issue["message"]


async def test_an_invalid_version_is_kept_as_draft_and_never_published(api: tuple) -> None:
    client, tokens = api
    admin = bearer(tokens["admin"])
    saved = await client.post("/api/flows/tiny/versions", json={"yaml": TINY + "  x: [\n"},
                              headers=admin)
    assert saved.status_code == 201
    assert saved.json()["state"] == "draft" and saved.json()["issues"]
    refused = await client.post("/api/flows/tiny/publish", json={}, headers=admin)
    assert refused.status_code == 409  # the request is fine; the stored version is not
    assert refused.json()["issues"][0]["line"] >= 1
    tried = await client.post("/api/flows/tiny/simulate", json={}, headers=admin)
    assert tried.status_code == 409 and tried.json()["issues"][0]["line"] >= 1


async def test_publish_then_roll_back_and_diff(api: tuple) -> None:
    client, tokens = api
    admin = bearer(tokens["admin"])
    changed = MAIN_EN.replace("retries: 3", "retries: 2")
    saved = (await client.post("/api/flows/main-en/versions", json={"yaml": changed},
                               headers=admin)).json()
    assert (saved["version"], saved["state"]) == (2, "validated")
    published = await client.post("/api/flows/main-en/publish", json={"version": 2},
                                  headers=admin)
    assert published.json()["state"] == "published"
    diff = (await client.get("/api/flows/main-en/diff?a=1&b=2", headers=admin)).json()["diff"]
    assert "-  retries: 3" in diff and "+  retries: 2" in diff
    back = (await client.post("/api/flows/main-en/rollback", headers=admin)).json()
    assert back["version"] == 1 and back["state"] == "published"
    versions = (await client.get("/api/flows/main-en", headers=admin)).json()
    assert [v["state"] for v in versions] == ["published", "rolled_back"]


async def test_simulate_runs_the_flow_as_a_call_and_returns_the_transcript(api: tuple) -> None:
    client, tokens = api
    got = await client.post(
        "/api/flows/main-en/simulate",
        json={"caller": "+15559990000", "inputs": ["dtmf:2", "dtmf:9"]},
        headers=bearer(tokens["viewer"]),
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["path"][:3] == ["identify", "greet", "main-menu"]
    assert "outage" in body["path"] and body["path"][-1] == "goodbye"
    prompts = [e["name"] for e in body["transcript"] if e["event"] == "prompt"]
    assert prompts[0] == "ivr/main-welcome"
    assert body["transcript"][-1]["event"] == "end"
