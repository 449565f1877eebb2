"""Flow tests run flows on a real Call over FastAGI, with the AGI emulator playing Asterisk.

The one place that knows the emulator's API: `place_call` starts a FastAGI server whose handler
runs the engine, dials in with the emulator, and drives the caller by what the app does (press
keys when a given prompt starts, hang up, stay silent) instead of by timings, so the tests do
not depend on scheduling. Virtual time runs at 1/100 of real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.call.session import Call
from ivr.flows.catalog import PinnedFlows
from ivr.flows.compiled import CompiledFlow
from ivr.flows.engine import FlowEngine, FlowRun
from ivr.flows.runner import FlowResult
from ivr.flows.runtime import FlowSource
from ivr.flows.services import HookResult, Services
from ivr.flows.validate import compile_flow
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock, CommandReceived, EmuEvent, PromptPlayed
from ivr.telephony.fastagi import AgiChannel, FastAgiServer

FIXTURES = Path(__file__).parent / "fixtures"
SCALE = 0.01
PROMPT_SAMPLES = 16000  # every prompt lasts 2 s of virtual time
CALL_TIMEOUT = 10.0
# Wednesday 2026-11-25 12:00 UTC: inside the fixtures' business hours
NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class When:
    """A caller reaction: when `prompt` starts playing (None: when anything next listens for
    keys), press `keys` (one per listening command) or hang up."""

    prompt: str | None = None
    keys: str = ""
    hangup: bool = False
    before: Callable[[], Awaitable[None]] | None = None  # runs first (e.g. publish mid-call)


@dataclass
class CallOutcome:
    result: FlowResult
    run: FlowRun | None
    call: Call
    events: list[EmuEvent]
    variables: dict[str, str]
    error: BaseException | None = None

    @property
    def prompts(self) -> list[str]:
        return [e.name for e in self.events if isinstance(e, PromptPlayed)]


def fixture_flow(name: str, version: int | None = None) -> CompiledFlow:
    path = FIXTURES / "good" / f"{name}.yaml"
    return compile_flow(path.read_text(encoding="utf-8"), str(path), version=version)


def _listening(line: bytes) -> tuple[bool, str | None]:
    words = parse_command_line(line.rstrip(b"\n"))
    command = " ".join(words).upper()
    if command.startswith(("STREAM FILE ", "GET OPTION ")):
        return True, words[2]
    return command.startswith("WAIT FOR DIGIT "), None


async def _drive(emu: AgiEmulator, script: Sequence[When]) -> None:
    todo = list(script)
    pending = ""
    async for event in emu.events.stream():
        if not isinstance(event, CommandReceived):
            continue
        listens, prompt = _listening(event.line)
        if not listens:
            continue
        if pending:
            emu.press(pending[0])
            pending = pending[1:]
            continue
        if todo and todo[0].prompt in (None, prompt):
            step = todo.pop(0)
            if step.before is not None:
                await step.before()
            if step.hangup:
                emu.hangup()
            elif step.keys:
                emu.press(step.keys[0])
                pending = step.keys[1:]


class NoServices:
    """Services for flows that use no hooks (every hook reports it is unavailable)."""

    async def lookup(self, ctx: object, by: str, value: str | None) -> HookResult:
        return HookResult("not_found")

    async def send_otp(self, ctx: object, method: str) -> HookResult:
        return HookResult("unavailable")

    async def verify_otp(self, ctx: object, code: str) -> HookResult:
        return HookResult("failed")

    async def self_service(self, ctx: object, action: str) -> HookResult:
        return HookResult("none")

    async def callback_request(self, ctx: object, number: str | None) -> HookResult:
        return HookResult("failed")


PlaceCall = Callable[..., Awaitable[CallOutcome]]


async def place_call(
    flow: CompiledFlow | Callable[[], Awaitable[CompiledFlow]],
    script: Sequence[When] = (),
    *,
    services: Services | None = None,
    flows: FlowSource | None = None,
    now: datetime = NOON,
    caller: str = "+15550100001",
    dnis: str = "18005550100",
    scale: float = SCALE,
) -> CallOutcome:
    """One call from the emulator to a FastAGI server running `flow` (or the flow a coroutine
    picks per call); returns once the app has finished with the call."""
    done: asyncio.Future[CallOutcome] = asyncio.get_running_loop().create_future()
    services = services or NoServices()

    async def handler(channel: AgiChannel) -> None:
        call = Call(channel)
        result = FlowResult()
        run: FlowRun | None = None
        error: BaseException | None = None
        try:
            chosen = flow if isinstance(flow, CompiledFlow) else await flow()
            engine = FlowEngine(chosen, services, flows=flows, now=lambda: now)
            run = await engine.run(call, result)
        except Exception as err:
            error = err
        finally:
            done.set_result(CallOutcome(result, run, call, [], {}, error))

    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", args=[dnis],
            profile=CallProfile(callerid=caller), clock=Clock(scale=scale),
            prompts=lambda name: PROMPT_SAMPLES,
        )  # fmt: skip
        driver = asyncio.create_task(_drive(emu, script))
        try:
            await asyncio.wait_for(emu.run(), CALL_TIMEOUT)
            outcome = await asyncio.wait_for(done, CALL_TIMEOUT)
        finally:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
    outcome.events = list(emu.events.events)
    outcome.variables = dict(emu.call.variables)
    return outcome


@pytest.fixture
def pinned() -> Callable[..., PinnedFlows]:
    def make(*names: str) -> PinnedFlows:
        return PinnedFlows({name: fixture_flow(name) for name in names})

    return make
