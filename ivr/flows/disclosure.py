"""Who may hear a customer's data on this call: the risk policy (auth/policy.py) applied by the
engine before every node, so no flow can forget it.

A node reveals data when `node.reveals()` names policy steps: a `self_service` answer (its
action: balance, request_status, outage_status) or any text it renders that reads the customer
(`{customer.*}`: step `identity`). The call is authenticated for a customer when
- the customer was found by the calling number (`lookup by: caller`, or the greeting, which
  looks the caller up by number): a caller-ID match, which the policy accepts for low-risk
  steps (statuses, balance, their own name);
- the caller keyed the one-time code sent to that customer's contact on file (`authenticate`
  verified), which the policy accepts for every step.
A customer found by a keyed account number is neither until `authenticate` verifies the code:
anyone can key a number. With no customer at all there is nothing to reveal (the hooks answer
no_account / none), so such nodes run.

Refused, the node does not run: the engine records a `policy` input (`refused:<steps>`), sets
`authenticated: no` and `auth_result: not_authenticated` (the agent sees why), and goes on at
the flow's fallback (`defaults.fallback`, the agent), whose transfer prompt tells the caller
what happens next. With no fallback, or a fallback that is itself refused, the call ends.
The validator (validate_disclosure.py) flags flows whose paths would be refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.auth.policy import requires_otp

if TYPE_CHECKING:
    from ivr.flows.nodes.base import NodeBase
    from ivr.flows.runtime import FlowContext, Runtime

log = logging.getLogger(__name__)
NOT_AUTHENTICATED = "not_authenticated"


@dataclass
class CallAuth:
    """Customers this call is authenticated for, by how (ids as the hooks give them)."""

    caller_id: set[str] = field(default_factory=set)  # found by the calling number
    otp: set[str] = field(default_factory=set)  # keyed the code sent to them

    def found_by_caller_id(self, customer: dict[str, Any] | None) -> None:
        key = _key(customer)
        if key is not None:
            self.caller_id.add(key)

    def verified(self, customer: dict[str, Any] | None) -> None:
        key = _key(customer)
        if key is not None:
            self.otp.add(key)

    def method(self, customer: dict[str, Any] | None) -> str | None:
        """How the caller proved to be `customer`: otp, caller_id, or None (not proven)."""
        key = _key(customer)
        if key is not None and key in self.otp:
            return "otp"
        return "caller_id" if key is not None and key in self.caller_id else None


def _key(customer: dict[str, Any] | None) -> str | None:
    value = (customer or {}).get("id")
    return None if value is None else str(value)


def allowed(ctx: FlowContext, step: str) -> bool:
    if not ctx.customer:
        return True  # nobody's data to tell
    key = _key(ctx.customer)
    if key is None:
        return False  # a customer we cannot tell apart is authenticated for nothing
    return not requires_otp(
        step, caller_id_match=key in ctx.auth.caller_id, authenticated=key in ctx.auth.otp
    )


async def run_node(rt: Runtime, node_id: str) -> str | None:
    """Run the node if the call may hear what it reveals, else take the refusal path."""
    node: NodeBase = rt.model.nodes[node_id]
    refused = sorted(step for step in node.reveals() if not allowed(rt.ctx, step))
    if not refused:
        return await node.run(rt, node_id)
    log.warning("call %s: node %s of flow %s refused: the caller is not authenticated for "
                "customer %s (%s)", rt.call.channel, node_id, rt.flow.label,
                _key(rt.ctx.customer), ", ".join(refused))  # fmt: skip
    rt.record(node_id, "policy", "refused:" + ",".join(refused))
    rt.ctx.variables.update(authenticated="no", auth_result=NOT_AUTHENTICATED)
    fallback = rt.defaults.fallback
    first = not rt.ctx.state.get("refused")
    rt.ctx.state["refused"] = True
    if first and fallback is not None and fallback != node_id:
        return fallback
    rt.outcome = rt.outcome or "failed"
    await rt.call.hangup()
    return None
