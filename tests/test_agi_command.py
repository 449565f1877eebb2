"""`ivr agi`: Asterisk starts ivr as a classic AGI script; the call runs over stdin/stdout."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from ivr.speech.audio import read_wav
from ivr.store.db import Database
from ivr.store.repositories.interactions import InteractionRepository
from ivr.telephony.agi import format_environment
from ivr.telephony.emulator.agi_call import CallProfile, EmulatedCall, wav_prompt_lengths
from ivr.telephony.emulator.agi_events import PromptPlayed, SessionClosed, VariableSet
from ivr.telephony.emulator.agi_server_side import AgiSession, environment_pairs
from tests.processes import IVR, REPO, env_for, run


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


async def test_eagi_script_hears_billing_on_fd3_and_takes_the_billing_branch(
    migrated: Path,
) -> None:
    assert run(migrated, "flows", "import", "--publish", "all").returncode == 0
    pcm = read_wav(TRACES / "eagi-received-slin8.wav")  # Asterisk's own fd-3 bytes: "billing"
    audio_r, audio_w = os.pipe()
    child = f"import os, sys; os.dup2({audio_r}, 3); from ivr.cli import main; sys.exit(main())"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", child, "agi", cwd=migrated, env=env_for(migrated),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, pass_fds=(audio_r,),
    )  # fmt: skip
    os.close(audio_r)
    assert proc.stdin is not None and proc.stdout is not None
    call = EmulatedCall(CallProfile(channel="PJSIP/trunk-00000008", callerid="+15551230009"),
                        prompts=spooled_or_catalog)
    env = format_environment(environment_pairs(
        call.profile, script=None, request="ivr", args=["18005550100"], enhanced=True))
    session = asyncio.create_task(AgiSession(call, proc.stdout, proc.stdin).run(env))
    try:
        # menu prompts are spooled for Asterisk: the main menu is the first, billing's the next
        main_menu = await call.events.wait_for(PromptPlayed, lambda e: e.name[:1] == "/", 60)
        await asyncio.to_thread(os.write, audio_w, pcm)  # a pipe holds it all
        await call.events.wait_for(
            PromptPlayed, lambda e: e.name[:1] == "/" and e.name != main_menu.name, 60)
        call.hangup()
        await call.events.wait_for(SessionClosed, within=20)
        await asyncio.wait_for(session, 5)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        os.close(audio_w)
    stored = interaction(migrated, call)
    assert stored.intent == "billing" and "billing-menu" in stored.path


def interaction(folder: Path, call: EmulatedCall) -> Any:
    interaction_id = int(next(e.value for e in call.events.of(VariableSet)
                              if e.name == "IVR_INTERACTION_ID"))
    db = Database(env_for(folder)["IVR_DATABASE_URL"])
    try:
        return InteractionRepository(db).get(interaction_id)
    finally:
        db.dispose()


TRACES = Path(__file__).parent / "conformance" / "traces"
CATALOG = wav_prompt_lengths(REPO / "prompts" / "en")


def spooled_or_catalog(name: str) -> int | None:
    """Prompt lengths: ivr's catalog (`ivr/<id>`), or a file spooled for EAGI (raw slin)."""
    if name.startswith("/"):
        spooled = Path(name + ".sln")
        return spooled.stat().st_size // 2 if spooled.exists() else None
    return CATALOG.get(name.removeprefix("ivr/"))
