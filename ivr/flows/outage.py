"""What a call hears when the database is gone: an apology and an agent, never silence.

The flow (held in memory) runs until a node needs the database; then the runner comes here.
The caller is handed to the agent fallback (IVR_AGENT_FALLBACK) with IVR_REASON set, so the
agent knows the self-service part failed; without a fallback the apology ends the call.
"""

from __future__ import annotations

import logging
from typing import Protocol

from ivr.call.errors import CallError, CallHangup
from ivr.call.session import Call

log = logging.getLogger(__name__)
TO_AGENT = "ivr/sorry-connecting-agent"  # "Sorry, we have a technical problem. Connecting..."
GOODBYE = "ivr/sorry-technical-problem"  # "... Please call again later. Goodbye."
REASON = "technical_problem"


class Outcome(Protocol):
    outcome: str
    path: list[str]


async def reach_agent(call: Call, result: Outcome, destination: str | None) -> None:
    """Apologise, then transfer to `destination` (or hang up when there is none)."""
    result.path.append("database-outage")
    try:
        if not any(turn.kind == "answer" for turn in call.turns):
            await call.answer()
        await _play(call, TO_AGENT if destination else GOODBYE)
        if destination:
            await call.transfer(destination, {"reason": REASON})
            result.outcome = "transferred"
        else:
            result.outcome = "failed"
            await call.hangup()
    except CallHangup:
        result.outcome = "abandoned"


async def _play(call: Call, prompt: str) -> None:
    try:
        await call.play(prompt)
    except CallError as err:  # a missing prompt must not keep the caller from the agent
        log.warning("call %s: apology %s not played: %s", call.channel, prompt, err)
