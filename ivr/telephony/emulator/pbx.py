"""The simulated PBX that `ivr serve` uses when no real Asterisk is configured (IVR_AMI_URL
unset): the AMI emulator places the dialer's calls, and each answered call runs its AGI leg
against our FastAGI server with a callee who listens and presses a key, as Asterisk would."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from ivr.telephony.emulator.agi_call import CallProfile, PromptLookup, trace_prompts
from ivr.telephony.emulator.agi_caller import PressWhenAsked, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall

USERNAME = "ivr"
DEFAULT_CALLEE: tuple[Step, ...] = (PressWhenAsked("1"),)  # "1 = I heard it"


class SimulatedPbx:
    def __init__(
        self, agi_url: str, *, context: str = "ivr-notify", extension: str = "notify",
        prompts: PromptLookup = trace_prompts, callee: Sequence[Step] = DEFAULT_CALLEE,
        time_scale: float = 1.0,
    ) -> None:
        self.secret = secrets.token_urlsafe(16)
        self.ami = AmiEmulator(username=USERNAME, secret=self.secret, agi_url=agi_url,
                               ivr_context=context, time_scale=time_scale)
        self.ami.on_answer = self._answered
        self._extension = extension
        self._prompts = prompts
        self._callee = list(callee)

    @property
    def port(self) -> int:
        return self.ami.port

    async def start(self) -> None:
        await self.ami.start()

    async def stop(self) -> None:
        await self.ami.stop()

    async def _answered(self, call: AnsweredCall) -> None:
        profile = CallProfile(
            channel=call.channel, uniqueid=call.uniqueid, variables=dict(call.variables),
            context=call.context, extension=self._extension, callerid=call.caller_id_num or "",
        )
        await AgiEmulator(call.agi_url, profile=profile, caller=self._callee,
                          prompts=self._prompts).run()
