"""Where a flow's calls end, and which keys walk a planned route through it, both read from the
loaded flow so the tests follow the YAML instead of a copy of it.

A leaf is a node after which the call is over: a `hangup` or `transfer`, or a node with no exit
to another node of the flow (e.g. a hand-off the engine cannot continue from)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from ivr.flows.graph import successors
from ivr.flows.nodes.menu import Menu
from ivr.flows.schema import FlowFile

ENDING_KINDS = frozenset({"hangup", "transfer"})


def leaves(flow: FlowFile) -> set[str]:
    graph = successors(flow)
    return {
        node_id
        for node_id, node in flow.nodes.items()
        if node.type in ENDING_KINDS or not graph.get(node_id)
    }


def menu_key(flow: FlowFile, menu_id: str, target: str) -> str:
    """The key that takes the caller from menu `menu_id` to `target` (an option first, then
    the flow's global keys)."""
    menu = flow.nodes[menu_id]
    if not isinstance(menu, Menu):
        raise ValueError(f"{menu_id} is a {menu.type}, not a menu")
    for option in menu.options:
        if option.goto == target and option.key is not None:
            return option.key
    for key, goto in flow.active_globals().items():
        if goto == target:
            return key
    raise ValueError(f"no key in menu {menu_id} leads to {target}")


SILENCE = "(silence)"  # in a planned route, after a menu: the caller says nothing there


def visited(route: Sequence[str]) -> list[str]:
    """The nodes of a planned route, without its SILENCE marks."""
    return [step for step in route if step != SILENCE]


def route_keys(flow: FlowFile, route: Sequence[str]) -> list[tuple[str, str]]:
    """(menu prompt, key) for every menu the planned `route` leaves by a key; a menu followed
    by SILENCE is left by its fallback after no input."""
    steps: list[tuple[str, str]] = []
    for here, there in pairwise(route):
        node = flow.nodes.get(here)
        if isinstance(node, Menu) and there != SILENCE:
            assert node.prompt is not None, f"menu {here} has no prompt to wait for"
            steps.append((node.prompt, menu_key(flow, here, there)))
    return steps
