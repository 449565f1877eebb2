"""Checks a loaded flow beyond its schema and reports EVERY problem as `file:line:col: sentence`:
unknown node references, unreachable nodes, loops that never wait for the caller, duplicate or
invalid menu keys and phrases, prompts missing from the catalog, placeholders and conditions
no data can fill, outcomes nobody routes, account data told to a caller not authenticated for
it (validate_disclosure.py)."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping

from ivr.flows.compiled import CompiledFlow
from ivr.flows.errors import FlowValidationError
from ivr.flows.expr import ExprError, compile_condition
from ivr.flows.graph import available_vars, loops, reachable, successors
from ivr.flows.loader import LoadedFlow, load_text
from ivr.flows.nodes.base import Routed
from ivr.flows.nodes.goto import Goto
from ivr.flows.nodes.menu import Menu, normalize_phrase
from ivr.flows.positions import FlowIssue
from ivr.flows.schema import GLOBAL_ACTIONS
from ivr.flows.services import CALLER_FIELDS, CUSTOMER_FIELDS
from ivr.flows.text import NAME, placeholders
from ivr.flows.validate_disclosure import refusals

BUILTINS = frozenset(
    {"language", "intent", "time", "weekday", "date", "business_hours", "holiday", "segment",
     "customer", "caller"}
)  # fmt: skip


class _Checker:
    def __init__(self, loaded: LoadedFlow) -> None:
        self.flow = loaded.model
        self.pos = loaded.positions
        self.issues: list[FlowIssue] = []

    def add(self, message: str, *path: str | int, key: bool = False) -> None:
        at = self.pos.key(*path) if key else self.pos.at(*path)
        self.issues.append(FlowIssue(at, message))

    def unknown(self, what: str, name: str, choices: Collection[str], *path: str | int) -> None:
        close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.add(f"unknown {what} {name!r}{hint}", *path)

    def references(self) -> None:
        nodes = self.flow.nodes
        if self.flow.start not in nodes:
            self.unknown("start node", self.flow.start, nodes, "start")
        fallback = self.flow.defaults.fallback
        if fallback and fallback not in nodes:
            self.unknown("fallback node", fallback, nodes, "defaults", "fallback")
        for key, target in (self.flow.globals or {}).items():
            if target and target not in GLOBAL_ACTIONS and target not in nodes:
                self.unknown(f"node for global key {key!r}", target, nodes, "globals", key)
        for node_id, node in nodes.items():
            for edge in node.edges():
                if edge.target not in nodes:
                    self.unknown("node", edge.target, nodes, "nodes", node_id, *edge.path)
            if isinstance(node, Routed):
                for name in node.unknown_outcomes():
                    self.add(
                        f"{node.type} has no outcome {name!r}; it reports "
                        f"{', '.join(node.outcomes())}", "nodes", node_id, "on", name, key=True,
                    )  # fmt: skip
                for outcome in node.unrouted():
                    self.add(
                        f"{node.type} outcome {outcome!r} goes nowhere; route it in on: "
                        "or give next:", "nodes", node_id, "type",
                    )  # fmt: skip

    def reachability(self) -> None:
        if self.flow.start not in self.flow.nodes:
            return
        seen = reachable(successors(self.flow), self.flow.start)
        for node_id in self.flow.nodes:
            if node_id not in seen:
                self.add(
                    f"node {node_id!r} can never be reached from start {self.flow.start!r}",
                    "nodes", node_id, key=True,
                )  # fmt: skip

    def endless_loops(self) -> None:
        for cycle in loops(successors(self.flow, input_free=True)):
            chain = " -> ".join([*cycle, cycle[0]])
            self.add(
                f"loop {chain} never waits for the caller (add a menu or gather, or end it)",
                "nodes", cycle[0], key=True,
            )  # fmt: skip

    def menus(self) -> None:
        active = self.flow.active_globals()
        for node_id, node in self.flow.nodes.items():
            if isinstance(node, Menu):
                self._menu(node_id, node, active)

    def _menu(self, node_id: str, menu: Menu, active: Mapping[str, str]) -> None:
        keys: dict[str, int] = {}
        phrases: dict[str, tuple[int, int]] = {}
        mode = menu.mode or self.flow.defaults.input
        for i, option in enumerate(menu.options):
            where = ("nodes", node_id, "options", i)
            if option.key is not None:
                if option.key in keys:
                    self.add(
                        f"key {option.key!r} is already option {keys[option.key] + 1} of this menu",
                        *where, "key",
                    )  # fmt: skip
                elif option.key in active:
                    self.add(
                        f"key {option.key!r} is also the global key for {active[option.key]!r}; "
                        "pick another key or change globals:", *where, "key",
                    )  # fmt: skip
                keys.setdefault(option.key, i)
            elif mode == "dtmf":
                self.add("option has no key, and this menu only listens to keys", *where)
            if mode == "speech" and not option.say:
                self.add("option has no phrases, and this menu only listens to speech", *where)
            for j, phrase in enumerate(option.say):
                norm = normalize_phrase(phrase)
                if norm in phrases:
                    self.add(
                        f"phrase {phrase!r} is already said for option {phrases[norm][0] + 1}",
                        *where, "say", j,
                    )  # fmt: skip
                phrases.setdefault(norm, (i, j))

    def prompts(self, catalog: Collection[str]) -> None:
        uses_speech = any(
            isinstance(n, Menu) and (n.mode or self.flow.defaults.input) != "dtmf"
            for n in self.flow.nodes.values()
        )
        if uses_speech and self.flow.defaults.keypad_prompt not in catalog:
            self.add(
                f"prompt {self.flow.defaults.keypad_prompt!r} (keypad fallback) is not in the "
                "prompt catalog", "defaults",
            )  # fmt: skip
        for node_id, node in self.flow.nodes.items():
            for prompt, path in node.prompts():
                if prompt not in catalog:
                    self.unknown("prompt (not in the prompt catalog)", prompt, catalog,
                                 "nodes", node_id, *path)  # fmt: skip

    def data(self) -> None:
        declared = set(self.flow.variables)
        produced = declared.union(*(n.produces() for n in self.flow.nodes.values()))
        start = self.flow.start
        graph = successors(self.flow)
        known = available_vars(graph, self.flow.nodes, start, declared) if start in graph else {}
        for node_id, node in self.flow.nodes.items():
            here = known.get(node_id, set()) | declared
            for text, path in node.texts():
                for name in placeholders(text):
                    self._name(name, here, "placeholder", "nodes", node_id, *path)
            for source, path in node.conditions():
                try:
                    condition = compile_condition(source)
                except ExprError as err:
                    shown = source if len(source) <= 60 else source[:57] + "..."
                    self.add(f"condition {shown!r}: {err} (at character {err.offset + 1})",
                             "nodes", node_id, *path)  # fmt: skip
                    continue
                for name in condition.names():
                    self._name(name, produced, "condition name", "nodes", node_id, *path,
                               anywhere=True)  # fmt: skip

    def _name(
        self, name: str, known: set[str], what: str, *path: str | int, anywhere: bool = False
    ) -> None:
        if not NAME.match(name):
            self.add(f"{what} {{{name}}} is not a name like customer.name or balance", *path)
            return
        root, _, rest = name.partition(".")
        if root in ("caller", "customer") and rest:
            fields = CALLER_FIELDS if root == "caller" else CUSTOMER_FIELDS
            if rest not in fields:
                self.unknown(f"{root} field in {what}", rest, fields, *path)
        elif rest or (root not in BUILTINS and root not in known):
            self.add(
                f"{what} {{{name}}} can never be filled: nothing sets {root!r} "
                + ("in this flow " if anywhere else "before this node ")
                + "(set it with set:, gather var:, a lookup or self_service, or declare it in "
                "variables:)", *path,
            )  # fmt: skip

    def disclosure(self) -> None:
        for node_id, sentence in refusals(self.flow):
            self.add(sentence, "nodes", node_id, key=True)

    def gotos(self, flows: Mapping[str, Collection[str]]) -> None:
        for node_id, node in self.flow.nodes.items():
            if not isinstance(node, Goto):
                continue
            if node.flow not in flows:
                self.unknown("flow", node.flow, flows, "nodes", node_id, "flow")
            elif node.node is not None and node.node not in flows[node.flow]:
                self.unknown(f"node of flow {node.flow!r}", node.node, flows[node.flow],
                             "nodes", node_id, "node")  # fmt: skip


def check(
    loaded: LoadedFlow,
    *,
    prompts: Collection[str] | None = None,
    flows: Mapping[str, Collection[str]] | None = None,
) -> list[FlowIssue]:
    """Every graph problem of one flow. `prompts`: known prompt ids (None skips the prompt
    check); `flows`: known flows -> their node ids (None skips checking goto targets)."""
    checker = _Checker(loaded)
    checker.references()
    checker.reachability()
    checker.endless_loops()
    checker.menus()
    checker.data()
    checker.disclosure()
    if prompts is not None:
        checker.prompts(prompts)
    if flows is not None:
        checker.gotos(flows)
    return sorted(set(checker.issues))


def compile_flow(
    text: str,
    file: str = "<flow>",
    *,
    version: int | None = None,
    prompts: Collection[str] | None = None,
    flows: Mapping[str, Collection[str]] | None = None,
) -> CompiledFlow:
    """Load and check; raises FlowSyntaxError / FlowValidationError listing every problem."""
    loaded = load_text(text, file)
    issues = check(loaded, prompts=prompts, flows=flows)
    if issues:
        raise FlowValidationError(issues)
    return CompiledFlow(loaded, version)
