"""A flow drawn as SVG from its validated model: nodes in layers by distance from the start,
edges labelled with the key, phrase or outcome that takes them. Every node carries
``data-node`` so the simulator can light up the path a call took."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from markupsafe import Markup, escape

from ivr.flows.nodes.base import Edge
from ivr.flows.nodes.menu import Menu
from ivr.flows.schema import FlowFile

NODE_W, NODE_H = 150, 46
GAP_X, GAP_Y = 30, 64
MARGIN = 24
MAX_PER_ROW = 4  # wider layers wrap, so the graph fits the panel at a readable scale


@dataclass(frozen=True)
class Placed:
    node_id: str
    kind: str
    x: int
    y: int


def _label(node: object, edge: Edge) -> str:
    path = edge.path
    if isinstance(node, Menu) and path and path[0] == "options" and isinstance(path[1], int):
        option = node.options[path[1]]
        return option.key or (option.say[0] if option.say else "")
    words = [p for p in path if isinstance(p, str) and p not in ("next", "goto", "on")]
    return words[-1] if words else ""


def _layers(flow: FlowFile) -> list[list[str]]:
    """Breadth-first layers from the start; nodes no path reaches go in a last layer."""
    depth = {flow.start: 0} if flow.start in flow.nodes else {}
    todo = deque(depth)
    while todo:
        current = todo.popleft()
        for edge in flow.nodes[current].edges():
            if edge.target in flow.nodes and edge.target not in depth:
                depth[edge.target] = depth[current] + 1
                todo.append(edge.target)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node_id in flow.nodes:
        if node_id in depth:
            rows[depth[node_id]].append(node_id)
    orphans = [n for n in flow.nodes if n not in depth]
    layers = rows + ([orphans] if orphans else [])
    return [layer[i:i + MAX_PER_ROW] for layer in layers for i in range(0, len(layer), MAX_PER_ROW)]


def _place(flow: FlowFile) -> tuple[dict[str, Placed], int, int]:
    rows = _layers(flow)
    widest = max((len(r) for r in rows), default=1)
    width = MARGIN * 2 + widest * NODE_W + (widest - 1) * GAP_X
    placed: dict[str, Placed] = {}
    for r, row in enumerate(rows):
        row_w = len(row) * NODE_W + (len(row) - 1) * GAP_X
        left = (width - row_w) // 2
        for c, node_id in enumerate(row):
            kind = str(getattr(flow.nodes[node_id], "type", "node"))
            placed[node_id] = Placed(node_id, kind, left + c * (NODE_W + GAP_X),
                                     MARGIN + r * (NODE_H + GAP_Y))
    height = MARGIN * 2 + len(rows) * NODE_H + max(len(rows) - 1, 0) * GAP_Y
    return placed, width, height


def _edge_svg(a: Placed, b: Placed, label: str) -> str:
    x1: float = a.x + NODE_W / 2
    y1: float = a.y + NODE_H
    x2: float = b.x + NODE_W / 2
    y2: float = b.y
    if b.y <= a.y:  # back or sideways edge: loop around the right side
        x1, y1, x2, y2 = a.x + NODE_W, a.y + NODE_H / 2, b.x + NODE_W, b.y + NODE_H / 2
        bend = max(x1, x2) + 40
        d = f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
        lx: float = bend - 6
        ly: float = (y1 + y2) / 2
    else:
        mid = (y1 + y2) / 2
        d = f"M{x1},{y1} C{x1},{mid} {x2},{mid} {x2},{y2}"
        lx, ly = (x1 + x2) / 2, mid
    text = (f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}">{escape(label)}</text>'
            if label else "")
    return (f'<g class="edge" data-from="{escape(a.node_id)}" data-to="{escape(b.node_id)}">'
            f'<path d="{d}" marker-end="url(#arrow)"/>{text}</g>')


def _node_svg(p: Placed, start: bool) -> str:
    short = p.node_id if len(p.node_id) <= 18 else p.node_id[:17] + "…"
    cls = f"node kind-{escape(p.kind)}" + (" start" if start else "")
    return (f'<g class="{cls}" data-node="{escape(p.node_id)}" '
            f'transform="translate({p.x},{p.y})"><title>{escape(p.node_id)} ({escape(p.kind)})'
            f'</title><rect width="{NODE_W}" height="{NODE_H}" rx="8"/>'
            f'<text class="node-id" x="{NODE_W / 2}" y="20">{escape(short)}</text>'
            f'<text class="node-kind" x="{NODE_W / 2}" y="36">{escape(p.kind)}</text></g>')


def flow_svg(flow: FlowFile) -> Markup:
    placed, width, height = _place(flow)
    edges = [
        _edge_svg(placed[node_id], placed[e.target], _label(node, e))
        for node_id, node in flow.nodes.items() for e in node.edges() if e.target in placed
    ]
    nodes = [_node_svg(p, p.node_id == flow.start) for p in placed.values()]
    defs = ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            'markerUnits="userSpaceOnUse" markerHeight="8" orient="auto-start-reverse">'
            '<path d="M0,0 L10,5 L0,10 z"/>'
            '</marker></defs>')
    return Markup(
        f'<svg class="flow-graph" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-label="graph of flow {escape(flow.flow)}" width="100%" '
        f'viewBox="0 0 {width + 60} {height}">{defs}{"".join(edges)}{"".join(nodes)}</svg>'
    )
