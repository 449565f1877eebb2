"""`callback_request`: the caller asks to be called back instead of waiting."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from ivr.flows.nodes.base import Routed
from ivr.flows.positions import FieldPath
from ivr.flows.services import CALLBACK_OUTCOMES

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class CallbackRequest(Routed):
    OUTCOMES: ClassVar[tuple[str, ...]] = CALLBACK_OUTCOMES

    type: Literal["callback_request"]
    number: str | None = None  # default: the caller's number; e.g. "{callback_number}"

    def texts(self) -> list[tuple[str, FieldPath]]:
        return [(self.number, ("number",))] if self.number else []

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        number = rt.render(self.number) if self.number else rt.ctx.caller
        result = await rt.services.callback_request(rt.ctx, number)
        rt.ctx.variables.update(result.data)
        if result.outcome == "scheduled":
            rt.self_served = True
        rt.record(node_id, "callback", result.outcome)
        return self.route(result.outcome)
