"""Classic AGI / EAGI: a real child process speaks AGI over its stdin/stdout pipes to the
emulator, and reads caller audio from fd 3."""

from __future__ import annotations

import asyncio
import os
import sys

from ivr.telephony.agi import format_environment
from ivr.telephony.emulator.agi_call import CallProfile, EmulatedCall
from ivr.telephony.emulator.agi_events import CommandReceived, SessionClosed
from ivr.telephony.emulator.agi_server_side import AgiSession, environment_pairs

CHILD = r"""
import asyncio, os, sys
from ivr.telephony.agiscript import connect_stdio, eagi_frames
from ivr.telephony.errors import CallHangup

async def main() -> None:
    channel = await connect_stdio()
    sizes = [len(frame) async for frame in eagi_frames()]
    await channel.command("SET VARIABLE", "FRAMES", " ".join(map(str, sizes)))
    await channel.command("SET VARIABLE", "SCRIPT", channel.env.request)
    await channel.command("SET VARIABLE", "ENHANCED", str(channel.env.is_enhanced))
    try:
        await channel.command("WAIT FOR DIGIT", "-1")
    except CallHangup:
        await channel.command("SET VARIABLE", "HUNG", "yes", allow_dead=True)
    await channel.close()

os.dup2(int(sys.argv[1]), 3)  # as Asterisk gives it; before the loop takes a descriptor
asyncio.run(main())
"""


async def test_eagi_script_reads_frames_and_sees_the_hangup() -> None:
    audio_r, audio_w = os.pipe()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(audio_r),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, pass_fds=(audio_r,),
    )  # fmt: skip
    os.close(audio_r)
    assert proc.stdin is not None and proc.stdout is not None
    call = EmulatedCall(CallProfile(channel="SIP/alice-00000001"))
    env = format_environment(
        environment_pairs(call.profile, script=None, request="/srv/eagi.py", enhanced=True)
    )
    session = asyncio.create_task(AgiSession(call, proc.stdout, proc.stdin).run(env))
    frames = b"\x01\x00" * 160 * 3 + b"\x02\x00" * 87  # three 20 ms frames + a short one

    def feed_audio() -> None:
        os.write(audio_w, frames)
        os.close(audio_w)

    await asyncio.to_thread(feed_audio)
    await call.events.wait_for(CommandReceived, lambda e: e.line.startswith(b"WAIT"), 10)
    call.hangup()
    await call.events.wait_for(SessionClosed, within=10)
    await asyncio.wait_for(session, 5)
    assert await asyncio.wait_for(proc.wait(), 10) == 0
    assert call.variables["FRAMES"] == "320 320 320 174"
    assert call.variables["SCRIPT"] == "/srv/eagi.py"
    assert call.variables["ENHANCED"] == "True"
    assert call.variables["HUNG"] == "yes"
