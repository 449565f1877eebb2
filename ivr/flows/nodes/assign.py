"""`set`: store session variables (values may use `{placeholders}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ivr.flows.nodes.base import Edge, NodeBase, NodeRef, VarName, next_edge
from ivr.flows.positions import FieldPath

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Set(NodeBase):
    type: Literal["set"]
    values: dict[VarName, str]
    next: NodeRef | None = None

    def edges(self) -> list[Edge]:
        return next_edge(self.next, "next")

    def texts(self) -> list[tuple[str, FieldPath]]:
        return [(value, ("values", name)) for name, value in self.values.items()]

    def produces(self) -> set[str]:
        return set(self.values)

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        for name, value in self.values.items():
            rt.ctx.variables[name] = rt.render(value)
        return self.next
