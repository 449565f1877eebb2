"""`ivr call`: the console phone against a running `ivr serve`, and in-process."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

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


UNROUTED = "18005550999"


@pytest.fixture
def server_env() -> dict[str, str]:
    # Dialled numbers that no flow routes get the minimal built-in flow, not main-en.
    return {"IVR_DEFAULT_FLOW": ""}


def test_call_with_key_and_hangup_shows_prompt_key_hangup_and_stores_the_call(
    running: Served,
) -> None:
    # No flow routes this number and no default flow is set: the minimal built-in flow answers.
    proc = run(running.cwd, "call", "--to", UNROUTED, "--from", "+15551230001", "--input",
               "dtmf:1", "--input", "hangup", "--json", **running.ports)
    assert proc.returncode == 0, proc.stderr
    got = events(proc.stdout)
    kinds = [e["event"] for e in got]
    assert kinds[-1] == "end"
    menu = next(e for e in got if e["event"] == "prompt")
    assert menu["name"] == "ivr/welcome-menu"  # streamed over `ivr serve`'s AudioSocket
    key = got[kinds.index("dtmf")]
    assert (key["digit"], key["heard"]) == ("1", True)
    assert got.index(menu) < kinds.index("dtmf")
    assert got[kinds.index("hangup")]["by"] == "caller"
    assert all(b["t"] >= a["t"] for a, b in itertools.pairwise(got))

    interaction = stored(running.cwd, next(e["id"] for e in got if e["event"] == "interaction"))
    assert interaction.caller == "+15551230001"
    assert list(interaction.path[:3]) == ["answer", "menu", "option-1"]
    assert interaction.outcome == "abandoned"  # the caller hung up before the goodbye
    assert interaction.finished


def test_text_transcript_reads_like_a_call(running: Served) -> None:
    proc = run(running.cwd, "call", "--to", UNROUTED, "--input", "dtmf:1", **running.ports,
               IVR_DEFAULT_FLOW="")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any("IVR answers" in line for line in lines)
    assert any("caller presses 1" in line for line in lines)
    assert any("IVR plays ivr/goodbye" in line for line in lines)
    assert "IVR hangs up" in lines[-2] and "call ended" in lines[-1]


def test_known_caller_hears_the_balance_in_the_published_main_flow(migrated: Path) -> None:
    assert run(migrated, "demo", "load").returncode == 0
    # main-en is imported and published on first run and routes 18005550100; John Carter's
    # number is on file, so billing (1) then balance (1) is self-service, then 9 ends the call.
    proc = run(migrated, "call", "--in-process", "--from", "+12125550103", "--to",
               "18005550100", "--input", "dtmf:1", "--input", "dtmf:1", "--input", "dtmf:9",
               "--json")
    assert proc.returncode == 0, proc.stderr
    got = events(proc.stdout)
    prompts = [e["name"] for e in got if e["event"] == "prompt"]
    assert "ivr/billing-menu" in prompts and "ivr/billing-your-balance-is" in prompts
    said = [e for e in got if e["event"] == "prompt" and e["name"].startswith("digits/")]
    assert [e["name"] for e in said] == ["digits/1", "digits/2", "digits/0", "digits/7", "digits/5"]
    interaction = stored(migrated, next(e["id"] for e in got if e["event"] == "interaction"))
    assert interaction.flow_name == "main-en"
    assert interaction.outcome == "self_served"
    assert "balance" in interaction.path


def test_call_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    proc = run(tmp_path, "call", "--input", "hangup", IVR_AGI_PORT=str(free_port()))
    assert_one_line_error(proc, "no ivr at agi://127.0.0.1:", "ivr serve", "--in-process")


def test_bad_input_names_the_accepted_forms(tmp_path: Path) -> None:
    proc = run(tmp_path, "call", "--input", "press:1")
    assert_one_line_error(proc, "bad --input 'press:1'", "dtmf:KEYS", "hangup")


def test_spoken_answers_through_a_running_server_reach_the_balance(running: Served) -> None:
    # `ivr serve` gives calls the AudioSocket speech path: the caller's words (synthesized with
    # espeak-ng) stream as audio, the server recognizes them, and speaks its answers by TTS.
    assert run(running.cwd, "demo", "load").returncode == 0
    # The call runs at the pace of its prompts: about 40 s of audio when nothing else runs, so
    # the usual 60 s allowance for a command is too tight on a busy machine.
    proc = run(running.cwd, "call", "--from", "+12125550103", "--to", "18005550100",
               "--input", "say:billing", "--input", "say:balance", "--input", "dtmf:9",
               "--json", timeout=180, **running.ports)
    assert proc.returncode == 0, proc.stderr
    got = events(proc.stdout)
    heard = [e["text"].split(" (")[0] for e in got if e["event"] == "heard"]
    said = [e["text"] for e in got if e["event"] == "say"]
    assert heard[:2] == ["billing", "balance"]
    assert any(text.startswith("Your balance is 120.75") for text in said)
    interaction = stored(running.cwd, next(e["id"] for e in got if e["event"] == "interaction"))
    assert interaction.outcome == "self_served"
