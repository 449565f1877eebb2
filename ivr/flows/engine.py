"""Runs a validated flow version on a Call: walks the nodes, records the path, inputs, intent
and outcome, and always leaves the result filled in (also when the caller hangs up).

The engine is given a fixed CompiledFlow, so a call finishes on the version it started with;
flows reached by `goto` are looked up once and pinned for the rest of the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ivr.call.errors import CallError, CallHangup
from ivr.call.session import Call
from ivr.flows.compiled import CompiledFlow
from ivr.flows.disclosure import run_node
from ivr.flows.errors import FlowError
from ivr.flows.runtime import FlowContext, FlowSource, InputRecord, Runtime
from ivr.flows.services import Services

log = logging.getLogger(__name__)
MAX_STEPS = 1000  # a validated flow cannot spin without input; this guards against bugs
APOLOGY = "ivr/sorry-technical-problem"


class ResultSink(Protocol):
    """What the engine fills in (runner.FlowResult has these attributes)."""

    outcome: str
    path: list[str]
    intent: str | None


@dataclass
class FlowRun:
    """Everything the engine learned about one call, for the interaction record."""

    flow: str
    version: int | None
    outcome: str = "failed"
    path: list[str] = field(default_factory=list)
    inputs: list[InputRecord] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    variables: dict[str, str] = field(default_factory=dict)
    transferred_to: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class FlowEngine:
    def __init__(
        self,
        flow: CompiledFlow,
        services: Services,
        *,
        flows: FlowSource | None = None,
        now: Callable[[], datetime] = _now,
        answer: bool = True,
    ) -> None:
        self.flow = flow
        self._services = services
        self._flows = flows
        self._now = now
        self._answer = answer

    async def run(
        self, call: Call, result: ResultSink, context: FlowContext | None = None
    ) -> FlowRun:
        """Run the flow to its end and return what happened. A caller hangup ends the run
        normally with outcome abandoned (or self_served / transferred if that came first); a
        flow that cannot go on (FlowError) apologises and hangs up with outcome failed; call
        errors propagate after the result is filled in."""
        ctx = context or FlowContext(caller=call.caller, dnis=call.dnis, channel=call.channel)
        rt = Runtime(call, self.flow, ctx, self._services, self._flows, self._now, result.path)
        try:
            await self._walk(rt)
        except CallHangup:
            rt.outcome = _after_hangup(rt)
        except FlowError as err:
            log.error("call %s: flow %s failed: %s", call.channel, self.flow.label, err)
            rt.outcome = "failed"
            await apologise(call)
        finally:
            _report(rt, result)
        return _summary(rt, self.flow)

    async def _walk(self, rt: Runtime) -> None:
        if self._answer:
            await rt.call.answer()
        node_id: str | None = rt.model.start
        steps = 0
        while node_id is not None:
            steps += 1
            if steps > MAX_STEPS:
                raise FlowError(f"flow {rt.flow.label} ran {MAX_STEPS} steps without ending")
            rt.visit(node_id)
            node_id = await run_node(rt, node_id)  # the disclosure policy, then the node
        if rt.outcome is None:
            # The flow ran out of nodes: end the call the way a hangup node would.
            rt.outcome = "self_served" if rt.self_served else "failed"
            await rt.call.hangup()


async def apologise(call: Call) -> None:
    """Never drop a leg silently: apologise and hang up, unless the caller is already gone."""
    try:
        await call.play(APOLOGY)
        await call.hangup()
    except (CallHangup, CallError) as err:
        log.info("call %s: apology not played: %s", call.channel, err)


def _after_hangup(rt: Runtime) -> str:
    if rt.outcome == "transferred":
        return "transferred"
    return "self_served" if rt.self_served else "abandoned"


def _report(rt: Runtime, result: ResultSink) -> None:
    result.outcome = rt.outcome or "failed"
    result.intent = rt.intent


def _summary(rt: Runtime, flow: CompiledFlow) -> FlowRun:
    return FlowRun(
        flow=flow.name,
        version=flow.version,
        outcome=rt.outcome or "failed",
        path=list(rt.path),
        inputs=list(rt.inputs),
        intent=rt.intent,
        confidence=rt.confidence,
        variables=dict(rt.ctx.variables),
        transferred_to=rt.call.transfer_to,
    )
