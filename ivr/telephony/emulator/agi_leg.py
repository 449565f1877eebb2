"""The AGI() of an answered emulated channel, played against a FastAGI server, with what
Asterisk keeps of it for the dialplan after AGI(): the variables the script set and AGISTATUS.

    async def answered(call: AnsweredCall) -> None:      # an AmiEmulator's on_answer hook
        await run_agi_leg(call, agi_leg(call, caller=[PressWhenAsked("1")]))
"""

from __future__ import annotations

from collections.abc import Sequence

from ivr.telephony.emulator.agi_call import CallProfile, PromptLookup, trace_prompts
from ivr.telephony.emulator.agi_caller import Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall


def agi_leg(
    call: AnsweredCall, url: str = "", *, caller: Sequence[Step] = (),
    prompts: PromptLookup = trace_prompts,
) -> AgiEmulator:
    """The session the channel's AGI() opens (to `url`, default the AGI() URL)."""
    profile = CallProfile(
        channel=call.channel, uniqueid=call.uniqueid, variables=dict(call.variables),
        context=call.context, extension=call.exten, callerid=call.caller_id_num or "",
    )
    return AgiEmulator(url or call.agi_url, profile=profile, args=call.agi_args,
                       caller=caller, prompts=prompts)


async def run_agi_leg(call: AnsweredCall, emu: AgiEmulator) -> None:
    """Run the session; a server that drops the connection mid-call ends it as Asterisk
    ends it, with AGISTATUS=SUCCESS, never an exception."""
    try:
        await emu.run()
    except OSError:
        # res_agi.c: no connection at all is FAILURE; a session that started and then lost
        # its socket returns like one that ended (SUCCESS), and the dialplan goes on.
        call.agi_status = "FAILURE" if not emu.events.events else "SUCCESS"
    else:
        call.agi_status = "HANGUP" if emu.call.dead.is_set() else "SUCCESS"
    call.variables.update(emu.call.variables)
