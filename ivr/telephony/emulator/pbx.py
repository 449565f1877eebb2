"""The simulated PBX that `ivr serve` uses when no real Asterisk is configured (IVR_AMI_URL
unset): the AMI emulator places the dialer's calls, and each answered call runs its AGI leg
against our FastAGI server with a callee who listens and presses a key, as Asterisk would.

It plays an Asterisk that loaded the shipped `asterisk/*.conf` (IVR_HOST set to our FastAGI
server, a fresh secret for the shipped AMI user), so `ivr serve` dials exactly as it would dial
a real one; without the snippets (an install without the source tree) it falls back to the
open emulator with an all-rights user of the same name.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from ivr.telephony.emulator.agi_call import PromptLookup, trace_prompts
from ivr.telephony.emulator.agi_caller import PressWhenAsked, Step
from ivr.telephony.emulator.agi_leg import agi_leg, run_agi_leg
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall
from ivr.telephony.emulator.asterisk_config import AsteriskConfig

USERNAME = "ivr-dialer"  # the user of asterisk/manager_ivr.conf (a test keeps them equal)
DEFAULT_CALLEE: tuple[Step, ...] = (PressWhenAsked("1"),)  # "1 = I heard it"


class SimulatedPbx:
    def __init__(
        self, agi_url: str, *, config: AsteriskConfig | None = None,
        prompts: PromptLookup = trace_prompts, callee: Sequence[Step] = DEFAULT_CALLEE,
        time_scale: float = 1.0,
    ) -> None:
        self.secret = secrets.token_urlsafe(16)
        if config is None and AsteriskConfig.shipped_available():
            config = AsteriskConfig.load()
        if config is not None:
            config.install(agi_url)
            config.set_secret(config.only_user().name, self.secret)
            self.ami = AmiEmulator(config=config, time_scale=time_scale)
        else:
            self.ami = AmiEmulator(username=USERNAME, secret=self.secret, agi_url=agi_url,
                                   ivr_context="ivr-notify", time_scale=time_scale)
        self.ami.on_answer = self._answered
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
        await run_agi_leg(call, agi_leg(call, caller=self._callee, prompts=self._prompts))
