"""A caller whose ivr node dies mid-call is never dropped without a word: Asterisk reports a
FastAGI session that lost its socket as AGISTATUS=SUCCESS and goes on in the dialplan, so the
shipped [ivr-inbound] must send a channel still up after AGI() to the agents. Played on the
emulator that loads the shipped asterisk/*.conf, against a real `ivr serve` killed with SIGKILL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from ivr.telephony.ami_codec import Message
from ivr.telephony.emulator.agi_caller import PressWhenAsked, Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_leg import agi_leg, run_agi_leg
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_call import EmulatedCall, OriginateRequest
from ivr.telephony.emulator.ami_script import AnsweredCall
from tests.campaigns.conftest import shipped_asterisk
from tests.processes import Served

DNIS = "18005550100"  # main-en, the sample flow


class Inbound:
    """The shipped Asterisk taking calls into [ivr-inbound], each caller acting out steps."""

    def __init__(self, agi_port: str) -> None:
        config, _ = shipped_asterisk(f"agi://127.0.0.1:{agi_port}")
        self.ami = AmiEmulator(config=config)
        self.ami.on_answer = self._answered
        self.legs: asyncio.Queue[AgiEmulator] = asyncio.Queue()
        self._steps: Sequence[Step] = ()

    async def _answered(self, call: AnsweredCall) -> None:
        emu = agi_leg(call, caller=self._steps, prompts=lambda _name: 2400)
        self.legs.put_nowait(emu)
        await run_agi_leg(call, emu)

    def call(self, steps: Sequence[Step] = ()) -> EmulatedCall:
        self._steps = steps
        return self.ami.start_call(OriginateRequest(
            channel="PJSIP/1001", context="ivr-inbound", exten=DNIS, caller_num="15551230001"))

    def apps(self, call: EmulatedCall) -> list[tuple[str, str]]:
        """The applications the caller's channel ran, in order (its Newexten events)."""
        return [(m.get("Application") or "", m.get("AppData") or "") for m in self.ami.raised
                if _is_newexten_of(m, call.a.name)]

    async def until_app(self, call: EmulatedCall, app: str) -> None:
        await _until(lambda: app in [name for name, _ in self.apps(call)], f"{app} ran")

    async def until_ended(self, call: EmulatedCall) -> None:
        await _until(lambda: call not in self.ami.calls, "the call ended")


async def _until(predicate: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)  # the emulator raises its events on its own schedule


def _is_newexten_of(msg: Message, channel: str) -> bool:
    return msg.get("Event") == "Newexten" and msg.get("Channel") == channel


async def test_a_caller_whose_node_is_killed_mid_menu_reaches_the_agents_queue(
    running: Served,
) -> None:
    asterisk = Inbound(running.ports["IVR_AGI_PORT"])
    async with asterisk.ami:
        call = asterisk.call()
        leg = await asyncio.wait_for(asterisk.legs.get(), 30)
        await asyncio.wait_for(leg.call.until_accepting("1"), 60)  # at the main menu
        running.proc.kill()
        running.proc.wait()
        await asterisk.until_app(call, "Queue")
        assert call.a.variables["AGISTATUS"] == "SUCCESS"
        assert asterisk.apps(call)[-1] == ("Queue", "agents,t")
        call.request_hangup(call.a, 16)  # the caller gives up waiting
        await asterisk.until_ended(call)


async def test_a_call_ivr_ends_is_not_sent_to_the_queue(
    running: Served,
) -> None:
    asterisk = Inbound(running.ports["IVR_AGI_PORT"])
    async with asterisk.ami:
        ended = asterisk.call([PressWhenAsked("3"), PressWhenAsked("9")])
        await asterisk.until_ended(ended)
        assert "Queue" not in [app for app, _ in asterisk.apps(ended)]
        assert ended.a.variables["AGISTATUS"] == "HANGUP"

