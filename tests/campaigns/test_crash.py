"""Crash safety: a dialer killed mid-campaign and restarted dials no attempt twice and loses no
contact (asserted on the emulator's log of received Originate actions)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from ivr.store.models import now_utc
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from tests.campaigns.conftest import SECRET, Pbx
from tests.campaigns.helpers import contacts, make_campaign, until
from tests.campaigns.test_dialer import attempts_of, finished, number, outcomes

ROOT = Path(__file__).resolve().parents[2]


def prepare(pbx: Pbx, n: int) -> int:
    for i in range(1, n + 1, 3):
        pbx.ami.script(number(i), "busy", ring_ms=100)
    pbx.people = {number(i): [PressWhenAsked("1")] for i in range(2, n + 1, 3)}
    campaign = make_campaign(pbx.db, contacts=contacts(n), max_attempts=2, now=now_utc(),
                             calls_per_second=40.0, max_channels=8)
    return campaign.id


def check_no_duplicates_and_none_lost(pbx: Pbx, campaign_id: int) -> None:
    sent = pbx.originates()
    assert len(sent) == len(set(sent)), "an attempt was dialled twice"
    attempts = attempts_of(pbx, campaign_id)
    by_channel = {a.channel_id: a for a in attempts}
    assert set(sent) <= set(by_channel), "an Originate without its attempt row"
    assert all(a.state == "ended" for a in attempts)
    pairs = [(a.contact_id, a.attempt_no) for a in attempts]
    assert len(pairs) == len(set(pairs))
    got = outcomes(pbx, campaign_id)
    assert all(state in ("done", "failed") for state, _, _ in got.values()), "a contact was lost"
    dialled = [a for a in attempts if a.channel_id in set(sent)]
    per_contact: dict[int, int] = {}
    for a in dialled:
        per_contact[a.contact_id] = per_contact.get(a.contact_id, 0) + 1
    assert max(per_contact.values()) <= 2  # never more calls than max_attempts


async def test_cancelled_dialer_restarts_without_redialling(pbx: Pbx) -> None:
    campaign_id = prepare(pbx, 24)
    first = await pbx.dialer("d1", batch_size=4)
    await first.start()
    await asyncio.wait_for(pbx.ami.wait_for_action("Originate", 10), 10)
    await first.stop()  # mid-campaign: calls in flight are left 'originating'/'answered'
    assert not finished(pbx, campaign_id)
    second = await pbx.dialer("d1", batch_size=4)
    await second.start()
    try:
        await until(lambda: finished(pbx, campaign_id), timeout=30)
    finally:
        await second.stop()
    check_no_duplicates_and_none_lost(pbx, campaign_id)


def spawn(pbx: Pbx, owner: str, lease_s: float = 30.0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.campaigns.dialer_proc", pbx.db.url, str(pbx.ami.port),
         owner, pbx.username, SECRET, str(lease_s)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, text=True)


async def test_sigkilled_dialer_process_restarts_without_redialling(pbx: Pbx) -> None:
    campaign_id = prepare(pbx, 30)
    proc = spawn(pbx, "p1")
    try:
        await asyncio.wait_for(pbx.ami.wait_for_action("Originate", 10), 30)
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        assert not finished(pbx, campaign_id)
        proc = spawn(pbx, "p1")
        await until(lambda: finished(pbx, campaign_id), timeout=40)
    finally:
        proc.kill()
        await asyncio.to_thread(proc.wait)
    check_no_duplicates_and_none_lost(pbx, campaign_id)


async def test_a_sigkilled_dialer_restarted_under_its_name_takes_its_leases_back_at_once(
    pbx: Pbx,
) -> None:
    """Same IVR_DIALER_NAME after kill -9: its 'dialing' contacts are reconciled against
    CoreShowChannels and the campaign goes on now, not when the 120 s leases run out."""
    campaign_id = prepare(pbx, 30)
    proc = spawn(pbx, "east-1", lease_s=120.0)
    try:
        await asyncio.wait_for(pbx.ami.wait_for_action("Originate", 10), 30)
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
        assert not finished(pbx, campaign_id)
        before = len(pbx.ami.actions("CoreShowChannels"))
        proc = spawn(pbx, "east-1", lease_s=120.0)
        await until(lambda: finished(pbx, campaign_id), timeout=60)  # well under the leases
    finally:
        proc.kill()
        await asyncio.to_thread(proc.wait)
    assert len(pbx.ami.actions("CoreShowChannels")) > before  # reconciled before going on
    check_no_duplicates_and_none_lost(pbx, campaign_id)
