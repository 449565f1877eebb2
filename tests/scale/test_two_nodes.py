"""Two `ivr serve` processes on one PostgreSQL database behave as one system (issue 12, item 4):
calls spread over both, a flow published through one node is served by the other on its next
call, a campaign is dialled by both without calling anyone twice, and a node killed with SIGKILL
mid-call loses only its own calls in flight, which a surviving node records as ended (no row is
left open)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from ivr.phone import to_json
from ivr.store.db import Database
from ivr.store.models import CallAttemptRow, now_utc
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.nodes import NodeRepository
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall, dial_number
from tests.campaigns.conftest import SECRET, shipped_asterisk
from tests.campaigns.helpers import contacts, make_campaign, phone
from tests.conftest import migrated_pg_database
from tests.scale.nodes import (
    Node,
    admin_token,
    caller,
    eventually,
    interactions,
    publish,
    running_nodes,
)

pytestmark = pytest.mark.postgres

DNIS = "18005550142"
FLOW = """\
flow: two-nodes
language: en
start: menu
routes: ["18005550142"]
nodes:
  menu:
    type: menu
    prompt: ivr/request-none
    mode: dtmf
    timeout: 60
    options:
      - {key: "1", goto: bye}
  agent:  # where the global key 0 goes
    type: transfer
    queue: agents
  bye:
    type: hangup
    prompt: ivr/goodbye
    outcome: self_served
"""
FLOW_V2 = FLOW.replace("ivr/goodbye", "ivr/billing-your-balance-is")
# Speech is not what this module tests: PocketSphinx loads in a second, so the two nodes' model
# loads do not take the machine's two cores from the calls. Heartbeats are fast so a dead node
# is noticed within seconds (production: 5 s beats, dead after 30 s).
SETTINGS = {"IVR_ASR_ENGINE": "pocketsphinx", "IVR_NODE_HEARTBEAT_SECONDS": "0.5",
            "IVR_NODE_DEAD_SECONDS": "3"}


@pytest.fixture
def pg() -> Iterator[Database]:
    with migrated_pg_database() as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


@contextlib.asynccontextmanager
async def two_nodes(db: Database, folder: Path, **settings: str) -> AsyncIterator[list[Node]]:
    """Nodes a and b, started at once; started in a thread, since this loop may be running an
    emulated Asterisk their dialers log in to meanwhile."""
    with contextlib.ExitStack() as stack:
        nodes = await asyncio.to_thread(stack.enter_context, running_nodes(
            db.url, folder, ("a", "b"), **SETTINGS, **settings))
        yield nodes


def heard(emu: AgiEmulator) -> list[str]:
    """The prompts the caller heard (streamed over AudioSocket, or played by STREAM FILE)."""
    items = [to_json(event) for event in emu.events.events]
    return [item["name"] for item in items if item is not None and item["event"] == "prompt"]


async def test_calls_spread_over_both_nodes_and_a_publish_on_one_is_served_by_the_other(
    pg: Database, tmp_path: Path,
) -> None:
    async with two_nodes(pg, tmp_path) as (a, b):
        token = admin_token(pg)
        assert await asyncio.to_thread(publish, a, token, "two-nodes", FLOW, route=DNIS) == 1
        calls = [caller(node, DNIS, [PressWhenAsked("1")]) for node in (a, b, a, b, a, b)]
        await asyncio.wait_for(asyncio.gather(*(emu.run() for emu in calls)), 60)
        assert [heard(emu) for emu in calls] == [["ivr/request-none", "ivr/goodbye"]] * 6

        assert await asyncio.to_thread(publish, a, token, "two-nodes", FLOW_V2) == 2
        after = caller(b, DNIS, [PressWhenAsked("1")])  # node b's very next call
        await asyncio.wait_for(after.run(), 30)
        assert heard(after) == ["ivr/request-none", "ivr/billing-your-balance-is"]

        def all_recorded() -> bool:  # a node writes the row as its call ends, not before
            rows = interactions(pg)
            return len(rows) == 7 and all(r.ended_at is not None for r in rows)

        await eventually(all_recorded, "every call's interaction written")

    rows = interactions(pg)
    assert [(r.node, r.flow_version, r.outcome) for r in rows if r.node == "a"] == [
        ("a", 1, "self_served")] * 3
    assert [(r.node, r.flow_version, r.outcome) for r in rows if r.node == "b"] == [
        ("b", 1, "self_served")] * 3 + [("b", 2, "self_served")]
    assert all(r.ended_at is not None for r in rows)


async def test_sigkill_loses_only_that_nodes_calls_and_a_survivor_closes_their_rows(
    pg: Database, tmp_path: Path,
) -> None:
    async with two_nodes(pg, tmp_path) as (a, b):
        await asyncio.to_thread(publish, a, admin_token(pg), "two-nodes", FLOW, route=DNIS)
        # Five callers on each node, all listening to the menu (nobody has pressed yet).
        on_a = [caller(a, DNIS) for _ in range(5)]
        on_b = [caller(b, DNIS) for _ in range(5)]
        runs = {emu: asyncio.create_task(emu.run()) for emu in on_a + on_b}
        await asyncio.wait_for(
            asyncio.gather(*(emu.call.until_accepting("1") for emu in runs)), 60)
        assert sum(r.ended_at is None for r in interactions(pg)) == 10

        a.kill()
        await asyncio.wait_for(asyncio.gather(*(runs[emu] for emu in on_a)), 30)
        for emu in on_b:  # b's callers never noticed: they answer the menu and finish
            emu.press("1")
        await asyncio.wait_for(asyncio.gather(*(runs[emu] for emu in on_b)), 30)
        later = caller(b, DNIS, [PressWhenAsked("1")])  # and b keeps taking new calls
        await asyncio.wait_for(later.run(), 30)
        assert all(heard(emu)[-1] == "ivr/goodbye" for emu in [*on_b, later])

        def none_open() -> bool:
            return all(r.ended_at is not None for r in interactions(pg))

        await eventually(none_open, "the killed node's rows are closed by the survivor")

    rows = interactions(pg)
    assert sorted((r.node, r.outcome) for r in rows) == (
        [("a", "failed")] * 5 + [("b", "self_served")] * 6)
    for row in rows:
        assert row.ended_at is not None and row.started_at <= row.ended_at
        assert row.duration_ms is not None
    lost = [r for r in rows if r.node == "a"]
    assert all(r.end_reason == "node_lost" for r in lost)
    assert all("node a" in r.transcript[-1]["text"] for r in lost)
    assert NodeRepository(pg).names() == ["b"]  # the dead node is gone, swept once


async def test_a_transfer_on_one_node_is_shown_by_the_other_nodes_api(
    pg: Database, tmp_path: Path,
) -> None:
    async with two_nodes(pg, tmp_path) as (a, b):
        token = admin_token(pg)
        await asyncio.to_thread(publish, a, token, "two-nodes", FLOW, route=DNIS)
        emu = caller(a, DNIS, [PressWhenAsked("0")])
        await asyncio.wait_for(emu.run(), 30)
        assert emu.call.variables["IVR_TRANSFER_TO"] == "queue-agents"
        channel = emu.call.profile.channel
        async with httpx.AsyncClient(base_url=b.api, headers=token, timeout=30) as http:
            shown = await http.get(f"/transfers/{channel}")

    assert shown.status_code == 200, shown.text  # the agent's screen may ask either node
    assert shown.json()["channel_id"] == channel
    assert shown.json()["extra"]["transfer_to"] == "queue-agents"


CONTACTS = 60


async def test_two_nodes_dial_one_campaign_and_nobody_is_called_twice(
    pg: Database, tmp_path: Path,
) -> None:
    config, user = shipped_asterisk("agi://127.0.0.1:4573")
    ami = AmiEmulator(config=config, time_scale=0.05)
    await ami.start()
    nodes: list[Node] = []

    async def answered(call: AnsweredCall) -> None:
        # Asterisk's AGI() goes to one node or the other (hagi:// SRV records spread them).
        node = nodes[int(call.number[-1]) % 2]
        script = call.agi_url.split("/", 3)[3]
        profile = CallProfile(channel=call.channel, uniqueid=call.uniqueid,
                              variables=dict(call.variables), context=call.context,
                              extension=call.exten)
        people = [PressWhenAsked("1")] if call.number in confirming else []
        await AgiEmulator(f"{node.agi_url}/{script}", profile=profile, args=call.agi_args,
                          caller=people, prompts=lambda _name: 800).run()

    numbers = [phone(i).lstrip("+") for i in range(1, CONTACTS + 1)]
    for i, number in enumerate(numbers):
        if i % 3 == 1:
            ami.script(number, "busy")
        elif i % 3 == 2:
            ami.script(number, "no-answer")
    confirming = set(numbers[::3])
    ami.on_answer = answered
    campaign = make_campaign(pg, contacts=contacts(CONTACTS), max_attempts=1, now=now_utc(),
                             state="paused", calls_per_second=100.0, max_channels=10)
    try:
        async with two_nodes(pg, tmp_path, IVR_AMI_URL=f"ami://{user}:{SECRET}@127.0.0.1:"
                             f"{ami.port}") as started:
            nodes.extend(started)
            CampaignRepository(pg).set_state("c1", "running")

            def settled() -> bool:
                progress = CampaignRepository(pg).progress(campaign.id)
                return progress["pending"] + progress["dialing"] == 0

            await eventually(settled, "every contact called and settled", seconds=120)
    finally:
        await ami.stop()

    placed = [m for m in ami.actions("Originate") if m.get("Channel")]
    dialled = [dial_number(m.get("Channel") or "") for m in placed]
    assert sorted(dialled) == sorted(numbers)  # each contact exactly once
    rows = CampaignRepository(pg).contacts(campaign.id, limit=1000)
    assert all(c.state in ("done", "failed") for c in rows)
    assert {c.phone.lstrip("+") for c in rows if c.result == "confirmed"} == confirming
    with pg.session() as s:
        dialers = list(s.scalars(select(CallAttemptRow.dialer)))
    assert len(dialers) == CONTACTS
    assert all(dialers.count(d) > 0 for d in ("a", "b")), dialers
