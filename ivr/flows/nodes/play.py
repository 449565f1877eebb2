"""`play`: play a recorded prompt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ivr.flows.nodes.base import Edge, NodeBase, NodeRef, PromptId, next_edge

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Play(NodeBase):
    type: Literal["play"]
    prompt: PromptId
    next: NodeRef | None = None

    def edges(self) -> list[Edge]:
        return next_edge(self.next, "next")

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        await rt.call.play(self.prompt)
        return self.next
