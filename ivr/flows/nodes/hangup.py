"""`hangup`: optionally say goodbye, then end the call with an outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ivr.flows.nodes.base import MaybeSpoken, NodeBase

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime

Outcome = Literal["self_served", "failed", "abandoned"]


class Hangup(NodeBase, MaybeSpoken):
    type: Literal["hangup"]
    # Default: self_served when a self-service action succeeded on this call, else failed.
    outcome: Outcome | None = None

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        rt.outcome = self.outcome or ("self_served" if rt.self_served else "failed")
        await rt.speak(self.spoken())
        await rt.call.hangup()
        return None
