"""The validator's half of the disclosure policy (flows/disclosure.py is the engine's): which
customer a call may hold on arrival at each node, and the nodes that would tell that customer's
data to a caller not authenticated for them.

On every path from start, the customer is one of:
- `none`: nobody found yet (nothing to reveal);
- `caller`: found by the calling number (`lookup by: caller` found, or a greeting);
- `keyed:<node>`: found by an account number the caller keyed at that lookup;
- `verified`: the caller keyed the one-time code of the customer they hold (`authenticate`;
  when it fails, a keyed customer is dropped: `none`).
A revealing node is flagged when some path reaches it in a state the policy refuses for what it
tells (`keyed` for anything; `caller` for steps that need a code). Paths through `goto` into
other flows are not followed: there the engine's check is the guard.
"""

from __future__ import annotations

from collections.abc import Iterator

from ivr.auth.policy import requires_otp
from ivr.flows.graph import successors
from ivr.flows.nodes.authenticate import Authenticate
from ivr.flows.nodes.base import Edge, NodeBase, Routed
from ivr.flows.nodes.greet import Greet
from ivr.flows.nodes.lookup import Lookup
from ivr.flows.schema import FlowFile

NONE, CALLER, VERIFIED, KEYED = "none", "caller", "verified", "keyed:"
TOLD = {
    "balance": "the account balance",
    "request_status": "the customer's request status",
    "outage_status": "the outage in the customer's area",
    "identity": "the customer's details ({customer.*})",
}


def _takes(node: NodeBase, edge: Edge, outcome: str) -> bool:
    """Whether `edge` is where the node goes on `outcome`."""
    if not isinstance(node, Routed):
        return False
    if edge.path[:1] == ("on",):
        return edge.path[1:] == (outcome,)
    return edge.path == ("next",) and outcome not in node.on


def _after(node_id: str, node: NodeBase, edge: Edge | None, states: set[str]) -> set[str]:
    """States on leaving `node` by `edge` (None: a global key or a fallback)."""
    if edge is None:
        return states
    if isinstance(node, Lookup) and _takes(node, edge, "found"):
        found = CALLER if node.by == "caller" else KEYED + node_id
        return states | {found} if edge.path == ("next",) else {found}
    if isinstance(node, Greet):
        return states | {CALLER}
    if isinstance(node, Authenticate):
        out: set[str] = set()
        if _takes(node, edge, "verified"):
            out |= {NONE if s == NONE else VERIFIED for s in states}
        if any(_takes(node, edge, o) for o in ("failed", "unavailable", "locked")):
            out |= {NONE if s.startswith(KEYED) else s for s in states}  # the keyed one dropped
        return out or states
    return states


def arrivals(flow: FlowFile) -> dict[str, set[str]]:
    """Node -> the states a call may be in on arrival (a fixpoint over the graph)."""
    graph = successors(flow)
    states: dict[str, set[str]] = {n: set() for n in flow.nodes}
    if flow.start not in states:
        return states
    states[flow.start] = {NONE}
    todo = [flow.start]
    while todo:
        node_id = todo.pop()
        node = flow.nodes[node_id]
        by_target: dict[str, list[Edge]] = {}
        for edge in node.edges():
            by_target.setdefault(edge.target, []).append(edge)
        for target in graph[node_id]:
            ways: list[Edge | None] = [*by_target.get(target, [])] or [None]
            out: set[str] = set()
            for way in ways:
                out |= _after(node_id, node, way, states[node_id])
            if not out <= states[target]:
                states[target] |= out
                todo.append(target)
    return states


def refusals(flow: FlowFile) -> Iterator[tuple[str, str]]:
    """(node id, sentence) for each revealing node some path reaches unauthenticated."""
    reached = arrivals(flow)
    for node_id, node in flow.nodes.items():
        for step in sorted(node.reveals()):
            told = TOLD.get(step, step)
            keyed = sorted(s.removeprefix(KEYED) for s in reached[node_id] if s.startswith(KEYED))
            if keyed:
                why = (
                    f"to a caller who may only have keyed an account number at {keyed[0]!r}; "
                    "route that lookup's found: through an authenticate node whose verified: "
                    "leads here"
                )
            elif CALLER in reached[node_id] and requires_otp(step, caller_id_match=True):
                why = "to a caller known only by caller ID; put an authenticate node before it"
            else:
                continue
            yield node_id, f"tells {told} {why} (the engine refuses it otherwise)"
