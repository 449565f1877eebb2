"""`self_service`: answer the caller without an agent (balance, request status, outages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ivr.flows.nodes.base import Routed
from ivr.flows.services import ACTION_DATA, ACTION_OUTCOMES, told_summary

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime

Action = Literal["balance", "request_status", "outage_status"]
NOT_SERVED = frozenset({"no_account", "unknown_area"})


class SelfService(Routed):
    type: Literal["self_service"]
    action: Action
    intent: str | None = None

    def outcomes(self) -> tuple[str, ...]:
        return ACTION_OUTCOMES[self.action]

    def produces(self) -> set[str]:
        return set(ACTION_DATA[self.action])

    def reveals(self) -> frozenset[str]:
        # Every answer is about the customer: their balance, their request, their area.
        return super().reveals() | {self.action}

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        result = await rt.services.self_service(rt.ctx, self.action)
        rt.ctx.variables.update(result.data)
        rt.intent = rt.intent or self.intent or self.action
        if result.outcome not in NOT_SERVED:
            rt.self_served = True
        told = told_summary(self.action, result.outcome, result.data)
        if told:
            rt.ctx.told.append(told)
        rt.record(node_id, "self_service", f"{self.action}:{result.outcome}")
        return self.route(result.outcome)
