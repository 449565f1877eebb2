"""`branch`: the first case whose condition holds wins, else `else:`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ivr.flows.expr import Condition, compile_condition
from ivr.flows.nodes.base import Edge, Model, NodeBase, NodeRef
from ivr.flows.positions import FieldPath

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> Condition:
    return compile_condition(source)


class Case(Model):
    when: str  # checked by validate.py, so every bad condition of a file is reported at once
    goto: NodeRef


class Branch(NodeBase):
    type: Literal["branch"]
    cases: list[Case] = Field(min_length=1)
    otherwise: NodeRef = Field(alias="else")

    def edges(self) -> list[Edge]:
        out = [Edge(case.goto, ("cases", i, "goto")) for i, case in enumerate(self.cases)]
        return [*out, Edge(self.otherwise, ("else",))]

    def conditions(self) -> list[tuple[str, FieldPath]]:
        return [(case.when, ("cases", i, "when")) for i, case in enumerate(self.cases)]

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        data = rt.data()
        for case in self.cases:
            if _compiled(case.when).evaluate(data):
                return case.goto
        return self.otherwise
