"""Two dialer processes on one PostgreSQL database share a campaign: every contact is dialled
exactly once (asserted on the emulator's log of received Originate actions) and both dial."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.store.db import Database
from ivr.store.models import now_utc
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.dialing import DialingRepository
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from ivr.telephony.emulator.ami_script import dial_number
from tests.campaigns.conftest import SECRET, Pbx
from tests.campaigns.helpers import contacts, make_campaign, until
from tests.campaigns.test_dialer import attempts_of, finished, number, outcomes
from tests.conftest import _truncate_all

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
CONTACTS = 300


@pytest.fixture
def db(_pg_database: Database) -> Iterator[Database]:
    """PostgreSQL only: SKIP LOCKED across processes is what this module proves."""
    _truncate_all(_pg_database)
    yield _pg_database


def spawn(pbx: Pbx, owner: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.campaigns.dialer_proc", pbx.db.url, str(pbx.ami.port),
         owner, pbx.username, SECRET], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


async def start_process(pbx: Pbx, owner: str) -> subprocess.Popen[str]:
    """A dialer in its own interpreter; returns once it says its dialer has started."""
    proc = spawn(pbx, owner)
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30)
    assert line.strip() == "started", f"dialer {owner} did not start (exit {proc.poll()})"
    return proc


async def stop_process(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    await asyncio.to_thread(proc.wait)
    if proc.stdout is not None:
        proc.stdout.close()


def prepare(pbx: Pbx) -> int:
    """A paused campaign: a third busy, a third confirming, a third not answering."""
    for i in range(1, CONTACTS + 1, 3):
        pbx.ami.script(number(i), "busy")
    for i in range(3, CONTACTS + 1, 3):
        pbx.ami.script(number(i), "no-answer")
    pbx.people = {number(i): [PressWhenAsked("1")] for i in range(2, CONTACTS + 1, 3)}
    campaign = make_campaign(pbx.db, contacts=contacts(CONTACTS), max_attempts=1, now=now_utc(),
                             state="paused", calls_per_second=100.0, max_channels=20)
    return campaign.id


async def test_two_dialer_processes_share_a_campaign_without_a_double_claim(pbx: Pbx) -> None:
    campaign_id = prepare(pbx)
    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(await start_process(pbx, "p1"))
        procs.append(await start_process(pbx, "p2"))
        # Both are polling before there is anything to claim, so both compete from the start.
        CampaignRepository(pbx.db).set_state("c1", "running")
        await until(lambda: finished(pbx, campaign_id), timeout=50)
    finally:
        for proc in procs:
            await stop_process(proc)

    dialled = [dial_number(m.get("Channel") or "") for m in pbx.placed()]
    assert sorted(dialled) == sorted(number(i) for i in range(1, CONTACTS + 1))
    channel_ids = pbx.originates()
    assert len(channel_ids) == len(set(channel_ids)) == CONTACTS
    attempts = attempts_of(pbx, campaign_id)
    assert len(attempts) == CONTACTS
    assert {a.channel_id for a in attempts} == set(channel_ids)
    per_owner = {owner: sum(a.dialer == owner for a in attempts) for owner in ("p1", "p2")}
    assert all(n > 0 for n in per_owner.values()), per_owner
    assert sum(per_owner.values()) == CONTACTS
    assert DialingRepository(pbx.db).open_attempts() == []
    got = outcomes(pbx, campaign_id)
    assert len(got) == CONTACTS
    assert all(state in ("done", "failed") for state, _, _ in got.values())
    # Each contact's result is the dialer's business (test_dialer.py); here only that the one
    # call each got was settled by the process that made it.
    assert all(a.state == "ended" for a in attempts)
