"""`transfer`: hand the caller to a queue or an extension with priority and skill, passing what
the IVR learned as IVR_* channel variables so the agent need not ask again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ivr.flows.nodes.base import MaybeSpoken, NodeBase, VarName
from ivr.flows.positions import FieldPath

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Transfer(NodeBase, MaybeSpoken):
    type: Literal["transfer"]
    queue: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    extension: Annotated[str, StringConstraints(pattern=r"^[0-9]+$")] | None = None
    priority: int = Field(0, ge=0, le=100)  # Asterisk queues serve higher numbers first
    priority_by_segment: dict[str, int] = Field(default_factory=dict)
    skill: str | None = None  # may use placeholders, e.g. "{intent}"
    pass_vars: list[VarName] | None = Field(None, alias="pass")  # default: every session var

    @model_validator(mode="after")
    def _one_destination(self) -> Transfer:
        if (self.queue is None) == (self.extension is None):
            raise ValueError("give exactly one of queue: or extension:")
        return self

    def texts(self) -> list[tuple[str, FieldPath]]:
        return super().texts() + ([(self.skill, ("skill",))] if self.skill else [])

    def destination(self) -> str:
        return f"queue-{self.queue}" if self.queue else str(self.extension)

    def context_vars(self, rt: Runtime) -> dict[str, str]:
        variables = rt.ctx.variables
        names = variables.keys() if self.pass_vars is None else self.pass_vars
        out = {name: variables[name] for name in names if name in variables}
        segment = (rt.ctx.customer or {}).get("segment")
        out["priority"] = str(self.priority_by_segment.get(str(segment), self.priority))
        if self.skill:
            out["skill"] = rt.render(self.skill)
        if rt.intent:
            out["intent"] = rt.intent
        if rt.ctx.customer and rt.ctx.customer.get("id") is not None:
            out["customer_id"] = str(rt.ctx.customer["id"])
        return out

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        rt.outcome = "transferred"
        await rt.speak(self.spoken())
        await rt.call.transfer(self.destination(), self.context_vars(rt))
        return None
