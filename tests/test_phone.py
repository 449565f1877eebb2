"""`ivr call`: the console phone against a running `ivr serve`, and in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ivr.store.db import Database
from ivr.store.repositories.interactions import InteractionRepository
from tests.processes import Served, assert_one_line_error, free_port, run


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def stored(cwd: Path, interaction_id: int) -> Any:
    db = Database(f"sqlite:///{cwd}/var/ivr.db")
    try:
        return InteractionRepository(db).get(interaction_id)
    finally:
        db.dispose()


def test_call_with_key_and_hangup_shows_prompt_key_hangup_and_stores_the_call(
    running: Served,
) -> None:
    proc = running.call("--from", "+15551230001", "--input", "dtmf:1", "--input", "hangup",
                        "--json")
    assert proc.returncode == 0, proc.stderr
    got = events(proc.stdout)
    kinds = [e["event"] for e in got]
    assert kinds[-1] == "end"
    menu = next(e for e in got if e["event"] == "prompt")
    assert menu["name"] == "ivr/welcome-menu" and menu["interrupted_by"] == "1"
    assert {"event": "dtmf", "digit": "1", "heard": True}.items() <= got[kinds.index("dtmf")].items()
    assert got[kinds.index("hangup")]["by"] == "caller"
    assert all(b["t"] >= a["t"] for a, b in zip(got, got[1:], strict=False))

    interaction = stored(running.cwd, next(e["id"] for e in got if e["event"] == "interaction"))
    assert interaction.caller == "+15551230001"
    assert list(interaction.path[:3]) == ["answer", "menu", "option-1"]
    assert interaction.outcome == "abandoned"  # the caller hung up before the goodbye
    assert interaction.finished


def test_text_transcript_reads_like_a_call(running: Served) -> None:
    proc = running.call("--input", "dtmf:1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any("IVR answers" in line for line in lines)
    assert any("caller presses 1" in line for line in lines)
    assert any("IVR plays ivr/goodbye" in line for line in lines)
    assert "IVR hangs up" in lines[-2] and "call ended" in lines[-1]


def test_call_in_process_runs_the_flow_to_self_service(migrated: Path) -> None:
    proc = run(migrated, "call", "--in-process", "--input", "dtmf:1", "--json")
    assert proc.returncode == 0, proc.stderr
    got = events(proc.stdout)
    interaction = stored(migrated, next(e["id"] for e in got if e["event"] == "interaction"))
    assert interaction.outcome == "self_served"
    assert list(interaction.path) == ["answer", "menu", "option-1", "goodbye"]


def test_call_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    proc = run(tmp_path, "call", "--input", "hangup", IVR_AGI_PORT=str(free_port()))
    assert_one_line_error(proc, "no ivr at agi://127.0.0.1:", "ivr serve", "--in-process")


def test_bad_input_names_the_accepted_forms(tmp_path: Path) -> None:
    proc = run(tmp_path, "call", "--input", "press:1")
    assert_one_line_error(proc, "bad --input 'press:1'", "dtmf:KEYS", "hangup")
