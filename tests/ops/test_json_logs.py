"""IVR_LOG_FORMAT=json: `ivr serve` writes one JSON object per line, and every line a call
produces carries that call's id, channel and caller (masked unless IVR_LOG_PII=1)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path
from typing import Any

import pytest

from ivr.logs import bind_call, mask_number, setup_logging
from tests.processes import Served, run, wait_for_log

UNROUTED = "18005550999"  # no flow routes it: the short built-in flow answers
CALLER = "+15551230001"


@pytest.fixture
def server_env() -> dict[str, str]:
    return {"IVR_LOG_FORMAT": "json", "IVR_DEFAULT_FLOW": ""}


def json_lines(log: Path) -> list[dict[str, Any]]:
    # json.loads fails the test on any line that is not one JSON object.
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def stop(served: Served) -> None:
    served.proc.send_signal(signal.SIGINT)
    assert served.proc.wait(timeout=30) == 0


def place_call(served: Served, caller: str, **settings: str) -> None:
    # The server loads its speech models in the background after it listens; their lines belong
    # to no call, so the call is placed once they are done and cannot fall inside its lines.
    wait_for_log(served.log, "speech models: preload finished", 120)
    proc = run(served.cwd, "call", "--to", UNROUTED, "--from", caller, "--input", "dtmf:1",
               "--input", "hangup", **served.ports, **settings)
    assert proc.returncode == 0, proc.stderr
    wait_for_log(served.log, '"message": "call ended"')


def test_every_line_of_a_call_carries_its_id_and_the_masked_caller(running: Served) -> None:
    place_call(running, CALLER)
    stop(running)
    lines = json_lines(running.log)
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    start = next(i for i, line in enumerate(lines) if line["message"].startswith("call from"))
    end = next(i for i, line in enumerate(lines) if line["message"] == "call ended")
    of_the_call = lines[start:end + 1]
    call_id = of_the_call[0]["call_id"]
    assert call_id
    assert all(line.get("call_id") == call_id for line in of_the_call), of_the_call
    assert all(line["caller"] == "+1555***0001" for line in of_the_call)
    assert all(line["channel"].startswith("PJSIP/") for line in of_the_call)
    assert CALLER not in running.log.read_text(encoding="utf-8")
    # Lines outside the call (start-up, shutdown) carry no call fields.
    assert "call_id" not in lines[0] and "call_id" not in lines[-1]


@pytest.mark.parametrize("server_env", [{"IVR_LOG_FORMAT": "json", "IVR_DEFAULT_FLOW": "",
                                         "IVR_LOG_PII": "1"}])
def test_log_pii_shows_the_caller_unmasked(running: Served) -> None:
    place_call(running, CALLER)
    stop(running)
    started = next(line for line in json_lines(running.log)
                   if line["message"].startswith("call from"))
    assert started["caller"] == CALLER and CALLER in started["message"]


def test_two_calls_get_different_ids(running: Served) -> None:
    place_call(running, CALLER)
    place_call(running, "+15551230002")
    stop(running)
    ids = {line["call_id"] for line in json_lines(running.log)
           if line["message"].startswith("call from")}
    assert len(ids) == 2


async def test_lines_from_the_calls_tasks_and_threads_carry_its_fields_and_no_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In-process: two calls at once, each logging from its own task, a task it starts and a
    # worker thread (as a database write does); every line names only its own call.
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("INFO", "json")
    log = logging.getLogger("ivr.test")

    async def call(call_id: str, caller: str) -> None:
        bind_call(call_id, f"PJSIP/{call_id}", caller)
        await asyncio.sleep(0)
        await asyncio.to_thread(log.info, "written")
        await asyncio.create_task(asyncio.to_thread(log.info, "sub-task"))
        log.error("failed", exc_info=ZeroDivisionError("x"))

    try:
        await asyncio.gather(call("1.1", "+15551230001"), call("1.2", "+15551230002"))
        log.info("outside any call")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    by_call = {cid: [x for x in lines if x.get("call_id") == cid] for cid in ("1.1", "1.2")}
    assert [len(v) for v in by_call.values()] == [3, 3]
    assert {x["caller"] for x in by_call["1.2"]} == {"+1555***0002"}
    assert all(x["channel"] == f"PJSIP/{x['call_id']}" for x in lines if "call_id" in x)
    assert "ZeroDivisionError" in by_call["1.1"][-1]["error"]
    assert "call_id" not in lines[-1] and lines[-1]["message"] == "outside any call"


def test_short_numbers_are_masked_too() -> None:
    assert mask_number("+15551230001") == "+1555***0001"
    assert "1234" not in mask_number("1234")
