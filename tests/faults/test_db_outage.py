"""A database outage on a real `ivr serve` over PostgreSQL: the machine's server stays up, a
proxy in front of it is cut (connections reset, new ones refused) and brought back.

During the outage a caller hears an apology and reaches the agent transfer instead of silence;
when the database returns the next call is served normally, with no restart, and the outage
call's interaction is written."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from ivr.store.db import Database
from tests.conftest import PG_ADMIN_URL, migrated_pg_database
from tests.faults.tcp_proxy import TcpProxy
from tests.processes import IVR, Served, env_for

pytestmark = pytest.mark.postgres
DNIS = "18005550100"  # main-en
APOLOGY = "IVR plays ivr/sorry-connecting-agent"
TRANSFER = "IVR transfers the caller to queue-agents"
# billing, balance, an account number: the account lookup needs the database (the menus before
# it are served from memory; the caller lookup degrades to "unknown caller" like a dead CRM)
TO_ACCOUNT_LOOKUP = ("dtmf:1", "dtmf:1", "dtmf:1234567#")


@pytest.fixture
def pg_database() -> Iterator[str]:
    with migrated_pg_database() as url:  # its own: the test cuts its connections
        yield url


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    target = make_url(PG_ADMIN_URL)
    with TcpProxy(target.host or "127.0.0.1", target.port or 5432) as running:
        yield running


@pytest.fixture
def server_env(pg_database: str, proxy: TcpProxy) -> dict[str, str]:
    through_proxy = make_url(pg_database).set(port=proxy.port)
    return {"IVR_DATABASE_URL": through_proxy.render_as_string(hide_password=False)}


def _interactions(url: str) -> list[tuple[str, str | None, str | None]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT caller, outcome, flow_name FROM interactions"))
            return [(r[0], r[1], r[2]) for r in rows]
    finally:
        db.dispose()


def _wait_for_interaction(url: str, caller: str, seconds: float = 60) -> tuple[str, ...]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [row for row in _interactions(url) if caller in row[0] and row[1] is not None]
        if found:
            return tuple(str(v) for v in found[0])
        time.sleep(0.5)  # another process writes it; nothing to await here
    raise AssertionError(f"no interaction for {caller}: {_interactions(url)}")


def _call(served: Served, caller: str, *inputs: str) -> str:
    args = ["--from", caller, "--to", DNIS, "--max-seconds", "90"]
    for action in inputs:
        args += ["--input", action]
    proc = served.call(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_a_call_during_an_outage_hears_the_apology_and_reaches_an_agent(
    running: Served, proxy: TcpProxy, pg_database: str
) -> None:
    _call(running, "+15550001000", "hangup")  # the published flows are now held in memory
    proxy.down()
    during = _call(running, "+15550001001", *TO_ACCOUNT_LOOKUP)
    assert "IVR plays ivr/main-menu" in during  # the flow, served from memory
    assert APOLOGY in during and TRANSFER in during, during
    proxy.up()
    after = _call(running, "+15550001002", "wait:2", "hangup")
    assert "interaction" in after and "opened" in after, after
    assert APOLOGY not in after
    recorded = _wait_for_interaction(pg_database, "15550001001")
    assert recorded[1:] == ("transferred", "main-en")
    log = running.log.read_text(encoding="utf-8")
    assert "Traceback" not in log


def test_a_cut_in_the_middle_of_a_call_still_ends_with_the_apology_and_the_transfer(
    running: Served, proxy: TcpProxy, pg_database: str
) -> None:
    args = ["--from", "+15550001003", "--to", DNIS, "--max-seconds", "90"]
    for action in TO_ACCOUNT_LOOKUP:
        args += ["--input", action]
    env = env_for(running.cwd, **running.ports)
    with subprocess.Popen([IVR, "call", *args], cwd=running.cwd, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as caller:
        assert caller.stdout is not None
        seen = []
        for line in caller.stdout:  # the call is under way: the database goes away now
            seen.append(line)
            if "IVR plays ivr/main-menu" in line:
                proxy.down()
                break
        seen += caller.stdout.readlines()
        assert caller.wait(120) == 0
    out = "".join(seen)
    assert APOLOGY in out and TRANSFER in out, out
    proxy.up()
    recorded = _wait_for_interaction(pg_database, "15550001003")
    assert recorded[1:] == ("transferred", "main-en")
    assert Path(running.log).read_text(encoding="utf-8").count("Traceback") == 0
