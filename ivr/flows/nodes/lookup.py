"""`lookup`: find the customer (CRM) by caller id or by an entered account number."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from ivr.flows.nodes.base import Routed
from ivr.flows.positions import FieldPath
from ivr.flows.services import LOOKUP_OUTCOMES

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Lookup(Routed):
    OUTCOMES: ClassVar[tuple[str, ...]] = LOOKUP_OUTCOMES

    type: Literal["lookup"]
    by: Literal["caller", "account"] = "caller"
    value: str | None = None  # for by: account, e.g. "{account}"

    def texts(self) -> list[tuple[str, FieldPath]]:
        return [(self.value, ("value",))] if self.value else []

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        value = rt.render(self.value) if self.value else None
        result = await rt.services.lookup(rt.ctx, self.by, value)
        if result.customer is not None:
            rt.ctx.customer = dict(result.customer)
            if self.by == "caller":  # a keyed account number proves nothing (disclosure.py)
                rt.ctx.auth.found_by_caller_id(rt.ctx.customer)
        rt.ctx.variables.update(result.data)
        rt.record(node_id, "lookup", result.outcome)
        return self.route(result.outcome)
