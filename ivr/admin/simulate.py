"""Flow simulation for admins: a real call over FastAGI with the Asterisk emulator, on a fast
clock, so a draft can be tried with keys (and speech) before it is published."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ivr.call.session import AgiLink, Call
from ivr.flows.compiled import CompiledFlow
from ivr.flows.engine import FlowEngine, FlowRun
from ivr.flows.runner import FlowResult
from ivr.flows.runtime import FlowSource
from ivr.flows.services import Services
from ivr.phone import make_emulator, parse_input, run_call
from ivr.telephony.emulator.agi_call import PromptLookup
from ivr.telephony.emulator.agi_events import Clock
from ivr.telephony.fastagi import FastAgiServer

TIME_SCALE = 0.02  # a 5 s menu timeout takes 100 ms
MAX_CALL_SECONDS = 600.0  # virtual: the simulated caller hangs up after 10 minutes


@dataclass
class Simulation:
    transcript: list[dict[str, Any]] = field(default_factory=list)
    run: FlowRun | None = None


async def simulate(
    flow: CompiledFlow, services: Services, flows: FlowSource | None, *, caller: str,
    dnis: str, inputs: Sequence[str], prompts: PromptLookup, language: str = "en",
) -> Simulation:
    """Run `flow` for `caller` pressing/saying `inputs` (the `ivr call --input` forms)."""
    steps = [parse_input(text) for text in inputs]
    out = Simulation()

    async def handler(link: AgiLink) -> None:
        try:
            out.run = await FlowEngine(flow, services, flows=flows).run(Call(link), FlowResult())
        finally:
            await link.close()

    async with FastAgiServer(handler, "127.0.0.1", 0, shutdown_grace=1.0) as server:
        emulator = make_emulator(
            f"agi://127.0.0.1:{server.port}/simulate", caller_id=caller, dnis=dnis,
            steps=steps, prompts=prompts, language=language, clock=Clock(TIME_SCALE),
        )
        async for item in run_call(emulator, MAX_CALL_SECONDS * TIME_SCALE):
            out.transcript.append(item)
    return out
