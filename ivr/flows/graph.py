"""Graph views of a flow: successors (with global keys and fallbacks), reachability, loops that
never wait for the caller (strongly connected components), and which variables may be set on
arrival at each node."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ivr.flows.nodes import NodeBase
from ivr.flows.nodes.gather import Gather
from ivr.flows.nodes.menu import Menu
from ivr.flows.schema import GLOBAL_ACTIONS, FlowFile

Graph = dict[str, list[str]]


def successors(flow: FlowFile, *, input_free: bool = False) -> Graph:
    """Node -> nodes it can lead to. `input_free` keeps only the edges taken without the caller
    pressing or saying anything (the ones an endless loop would be made of)."""
    nodes = flow.nodes
    globals_ = [t for t in flow.active_globals().values() if t not in GLOBAL_ACTIONS]
    fallback = flow.defaults.fallback
    graph: Graph = {}
    for node_id, node in nodes.items():
        if input_free and node.takes_input:
            graph[node_id] = []
            continue
        targets = [e.target for e in node.edges() if not (input_free and e.after_input)]
        if isinstance(node, Menu):
            targets += globals_
        if isinstance(node, Menu | Gather) and node.fallback is None and fallback:
            targets.append(fallback)
        graph[node_id] = [t for t in dict.fromkeys(targets) if t in nodes]
    return graph


def reachable(graph: Graph, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def loops(graph: Graph) -> list[list[str]]:
    """Cycles (strongly connected components with a loop), each in node order (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(root: str) -> None:
        work = [(root, iter(graph.get(root, [])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, []):
                    found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    order = {n: i for i, n in enumerate(graph)}
    return [sorted(c, key=order.__getitem__) for c in found]


def available_vars(
    graph: Graph, nodes: Mapping[str, NodeBase], start: str, initial: Iterable[str]
) -> dict[str, set[str]]:
    """Variables that some path from `start` may have set on arrival at each node."""
    known: dict[str, set[str]] = {n: set() for n in graph}
    known[start] = set(initial)
    changed = True
    while changed:
        changed = False
        for node_id, targets in graph.items():
            out = known[node_id] | nodes[node_id].produces()
            for target in targets:
                if not out <= known[target]:
                    known[target] |= out
                    changed = True
    return known
