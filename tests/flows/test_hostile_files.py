"""Hostile flow files (tests/flows/fixtures/hostile/): an alias bomb, a self-containing alias,
deep nesting, impossible dates, over-long numbers, Latin-1 and UTF-16 files, control
characters, object tags, a condition nested too deep. Each is refused with ONE
`file:line:col: sentence` (the line in NAME.expect) and exit 1 by `ivr flows validate`, and the
admin API's validator (same compiler) answers 200 with that problem, never a 500."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ivr.admin.app import create_app
from ivr.cli import main
from ivr.config import Settings
from ivr.flows.errors import FlowSyntaxError
from ivr.flows.loader import load_text
from ivr.store.db import Database
from ivr.store.repositories.tokens import TokenRepository

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE = sorted((FIXTURES / "hostile").glob("*.yaml"))
CATALOG = FIXTURES / "catalog.yaml"
REPO = Path(__file__).parents[2]
BOMB = FIXTURES / "hostile" / "alias-bomb.yaml"
MAX_BYTES = 256 * 1024  # the documented limit (ivr.flows.reader.MAX_BYTES)


def expected(path: Path) -> str:
    return path.with_suffix(".expect").read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_ivr_flows_validate_refuses_a_hostile_file_in_one_positioned_line(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["flows", "validate", str(path), "--prompts", str(CATALOG)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [f"{path}:{expected(path)}"]
    assert "Traceback" not in err


def test_the_ivr_command_refuses_a_ten_level_alias_bomb_at_once() -> None:
    # A real `ivr` process: before the limits it never returned (10^10 values to build).
    proc = subprocess.run(
        [sys.executable, "-m", "ivr.cli", "flows", "validate", str(BOMB), "--prompts",
         str(CATALOG)], capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip() == f"{BOMB}:{expected(BOMB)}"


def test_the_alias_bomb_is_refused_before_anything_is_expanded() -> None:
    text = BOMB.read_text(encoding="utf-8")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(FlowSyntaxError) as refused:
            load_text(text, "bomb.yaml")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "alias *" in refused.value.issue.message
    assert peak < 10_000_000  # bytes; measured about 0.1 MB
    assert elapsed < 2.0  # generous: measured a few milliseconds


def test_text_over_the_size_limit_is_refused_at_the_start(tmp_path: Path) -> None:
    body = "flow: big\nlanguage: en\nstart: a\nnodes:\n  a: {type: hangup}\n"
    text = body + "# " + "x" * MAX_BYTES + "\n"
    with pytest.raises(FlowSyntaxError) as refused:
        load_text(text, "big.yaml")
    assert str(refused.value.issue).startswith("big.yaml:1:1: the file is larger than 256 KiB")
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["flows", "validate", str(path), "--prompts", str(CATALOG)]) == 1


@pytest.fixture
async def api(sqlite_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    db = Database(sqlite_url)
    _, secret = TokenRepository(db).create("viewer-1", "viewer")
    app = create_app(Settings(database_url=sqlite_url, prompts_dir=REPO / "prompts"), db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://ivr.test"
    ) as client:
        yield client, secret
    db.dispose()


TEXT_CASES = [p for p in HOSTILE if p.stem not in ("latin-1", "utf-16")]  # bytes, not text


@pytest.mark.parametrize("path", TEXT_CASES, ids=[p.stem for p in TEXT_CASES])
async def test_the_api_validator_answers_a_hostile_text_with_its_one_problem(
    path: Path, api: tuple[httpx.AsyncClient, str]
) -> None:
    client, secret = api
    text = path.read_text(encoding="utf-8")  # noqa: ASYNC240 (a small fixture)
    answer = await client.post(
        "/api/flows/validate", json={"yaml": text},
        headers={"Authorization": f"Bearer {secret}"},
    )  # fmt: skip
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is False
    (issue,) = body["issues"]
    line_col, message = expected(path).split(": ", 1)
    assert f"{issue['line']}:{issue['column']}" == line_col
    assert issue["message"] == message


# NUL, a lone surrogate, ESC (after a BOM, which is allowed), DEL; and the column each is at
UNREADABLE = [("a\x00b", 26), ("a\udc80b", 26), ("\ufeff\x1b", 26), ("\x7f", 25)]


def unreadable_flow(text: str) -> str:
    return f"flow: x\nlanguage: en\nstart: a\nnodes:\n  a: {{type: say, text: '{text}'}}\n"


@pytest.mark.parametrize(("text", "col"), UNREADABLE)
def test_a_character_yaml_cannot_hold_is_one_line_at_its_position(text: str, col: int) -> None:
    with pytest.raises(FlowSyntaxError) as refused:
        load_text(unreadable_flow(text), "x.yaml")
    issue = refused.value.issue
    assert (issue.pos.line, issue.pos.col) == (5, col)
    assert issue.message.startswith("character U+") and "\n" not in issue.message


@pytest.mark.parametrize("text", [text for text, _ in UNREADABLE])
async def test_the_api_validator_refuses_unreadable_characters_without_a_500(
    text: str, api: tuple[httpx.AsyncClient, str]
) -> None:
    client, secret = api
    answer = await client.post(
        "/api/flows/validate",
        content=json.dumps({"yaml": unreadable_flow(text)}),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )  # fmt: skip (json.dumps escapes the lone surrogate as ASCII)
    assert answer.status_code in (200, 422)  # the body may be refused before the compiler
    if answer.status_code == 200:
        (issue,) = answer.json()["issues"]
        assert issue["line"] == 5 and "\n" not in issue["message"]
