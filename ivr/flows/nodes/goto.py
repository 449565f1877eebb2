"""`goto`: continue in another flow (its published version, pinned for the rest of the call)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import StringConstraints

from ivr.flows.nodes.base import ID_PATTERN, NodeBase, NodeRef

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Goto(NodeBase):
    type: Literal["goto"]
    flow: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    node: NodeRef | None = None  # default: the other flow's start

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        start = await rt.enter_flow(self.flow)
        return self.node or start
