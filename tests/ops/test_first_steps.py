"""A newcomer's first five minutes: `ivr demo load` names the numbers worth calling in
sentences, `ivr serve --next-steps` (what `make run` starts) prints two calls to try once it
listens, and `ivr call` shows the words of each prompt beside its id."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from ivr.cli import build_parser
from ivr.firststeps import KNOWN_CALL, UNKNOWN_CALL
from ivr.store.db import Database
from ivr.store.demo import JOHN_CARTER, MARIA_GARCIA, UNKNOWN_CALLER
from ivr.store.repositories import CustomerRepository
from tests.processes import IVR, REPO, Served, env_for, run, wait_for_log

REPR = re.compile(r"\w+\(\w+=")  # DemoSummary(created=50, ...) and the like


def test_demo_load_says_what_it_loaded_and_which_numbers_to_call(migrated: Path) -> None:
    first = run(migrated, "demo", "load")
    assert first.returncode == 0, first.stderr
    assert not REPR.search(first.stdout), first.stdout
    assert first.stdout.startswith("Loaded the demo company: 50 customers")
    for number in (JOHN_CARTER, MARIA_GARCIA, UNKNOWN_CALLER):
        assert number in first.stdout
    second = run(migrated, "demo", "load")
    assert second.stdout.startswith("The demo company is already loaded (50 customers).")
    assert not REPR.search(second.stdout)


def test_the_numbers_named_are_what_the_demo_holds(migrated: Path) -> None:
    assert run(migrated, "demo", "load").returncode == 0
    db = Database(f"sqlite:///{migrated}/var/ivr.db")
    try:
        customers = CustomerRepository(db)
        (john,) = customers.find_by_phone(JOHN_CARTER)
        (maria,) = customers.find_by_phone(MARIA_GARCIA)
        assert customers.find_by_phone(UNKNOWN_CALLER) == []
    finally:
        db.dispose()
    assert john.name == "John Carter" and maria.name == "Maria Garcia"


def test_known_call_hint_is_a_valid_ivr_call_command() -> None:
    # The hint is printed for people to paste: it must parse as `ivr call` arguments.
    for hint in (KNOWN_CALL, UNKNOWN_CALL):
        argv = shlex.split(hint)[1:]
        args = build_parser().parse_args(argv)
        assert args.command == "call"


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"IVR_DEFAULT_FLOW": ""}


def test_serve_with_next_steps_prints_the_two_calls_once_listening(
    migrated: Path, ports: dict[str, str]
) -> None:
    log = migrated / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([IVR, "serve", "--next-steps"], cwd=migrated,
                                env=env_for(migrated, **ports), stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    try:
        text = wait_for_log(log, UNKNOWN_CALL)
        assert text.index("admin API on") < text.index("ivr is ready")
        assert KNOWN_CALL in text
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_makefile_run_starts_serve_with_next_steps() -> None:
    assert "ivr serve --next-steps" in (REPO / "Makefile").read_text(encoding="utf-8")


def test_call_transcript_shows_the_words_of_each_prompt(running: Served) -> None:
    proc = run(running.cwd, "call", "--to", "18005550999", "--input", "dtmf:1",
               **running.ports)
    assert proc.returncode == 0, proc.stderr
    assert 'IVR plays ivr/welcome-menu "Welcome. For the status of your request, press 1."' \
        in proc.stdout
    assert 'IVR plays ivr/goodbye "Goodbye."' in proc.stdout
    as_json = run(running.cwd, "call", "--to", "18005550999", "--input", "dtmf:1", "--json",
                  **running.ports)
    prompts = [e for e in map(json.loads, as_json.stdout.splitlines()) if e["event"] == "prompt"]
    assert {p["name"]: p["words"] for p in prompts}["ivr/goodbye"] == "Goodbye."


def test_readme_first_calls_are_the_demo_customer_then_an_unknown_caller() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first, second = readme.index(f"$ {KNOWN_CALL}"), readme.index(f"$ {UNKNOWN_CALL}")
    assert first < second
    assert "Good evening, John." in readme[first:second]


def test_prompts_render_ends_with_a_sentence(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    shutil.copy(REPO / "prompts" / "catalog.yaml", prompts / "catalog.yaml")
    proc = run(tmp_path, "prompts", "render", "goodbye", "--dir", str(prompts))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"Rendered 2 prompts into {prompts}."
    assert (prompts / "en" / "goodbye.wav").is_file()
