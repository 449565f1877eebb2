"""`ivr agi`: Asterisk starts ivr as a classic AGI script; the call runs over stdin/stdout."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.store.db import Database
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.agi import format_environment
from ivr.telephony.emulator.agi_call import CallProfile, EmulatedCall
from ivr.telephony.emulator.agi_events import PromptPlayed, SessionClosed, VariableSet
from ivr.telephony.emulator.agi_server_side import AgiSession, environment_pairs
from tests.processes import IVR, env_for


async def test_agi_script_runs_the_flow_and_stores_the_interaction(migrated: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        IVR, "agi", cwd=migrated, env=env_for(migrated),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lengths = {"ivr/welcome-menu": 8000, "ivr/thank-you": 4000, "ivr/goodbye": 2000}
    call = EmulatedCall(CallProfile(channel="PJSIP/trunk-00000007", callerid="+15551230009"),
                        prompts=lengths.get)
    env = format_environment(
        environment_pairs(call.profile, script=None, request="ivr", args=["18005550100"])
    )
    session = asyncio.create_task(AgiSession(call, proc.stdout, proc.stdin).run(env))
    await call.events.wait_for(PromptPlayed, lambda e: e.name == "ivr/welcome-menu", 20)
    await call.events.wait_for(SessionClosed, within=20)
    await asyncio.wait_for(session, 5)
    assert await asyncio.wait_for(proc.wait(), 10) == 0

    interaction_id = int(next(e.value for e in call.events.of(VariableSet)
                              if e.name == "IVR_INTERACTION_ID"))
    db = Database(env_for(migrated)["IVR_DATABASE_URL"])
    try:
        stored = InteractionRepository(db).get(interaction_id)
    finally:
        db.dispose()
    assert stored.caller == "+15551230009"
    assert list(stored.path) == ["answer", "menu", "no-input", "goodbye"]
