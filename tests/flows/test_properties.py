"""Property tests: the loader and validator never crash on arbitrary flows, and report
problems only as positioned issues."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ivr.flows.compiled import CompiledFlow
from ivr.flows.errors import FlowSyntaxError, FlowValidationError
from ivr.flows.graph import loops, successors
from ivr.flows.loader import load_text
from ivr.flows.validate import check
from tests.flows.conftest import When, place_call

IDS = st.sampled_from(["a", "b", "c", "d", "menu", "agent"])
KEYS = st.sampled_from(["0", "1", "2", "9", "*", "#", "11", "x"])
TEXTS = st.sampled_from(["hi", "{customer.name}", "{x}", "{balance}", "{ bad", "{caller.nope}"])


def node() -> st.SearchStrategy[dict[str, Any]]:
    option = st.fixed_dictionaries(
        {"key": KEYS, "goto": IDS}, optional={"say": st.lists(st.sampled_from(["yes", "no"]))}
    )
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("play"), "prompt": st.just("p/x")},
                              optional={"next": IDS}),
        st.fixed_dictionaries({"type": st.just("say"), "text": TEXTS}, optional={"next": IDS}),
        st.fixed_dictionaries({"type": st.just("set"), "values": st.just({"x": "1"})},
                              optional={"next": IDS}),
        st.fixed_dictionaries({"type": st.just("menu"), "prompt": st.just("p/m"),
                               "options": st.lists(option, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"type": st.just("branch"), "else": IDS,
                               "cases": st.just([{"when": "x == 1", "goto": "a"}])}),
        st.fixed_dictionaries({"type": st.just("hangup")}),
        st.fixed_dictionaries({"type": st.sampled_from(["transfer", "bogus"]),
                               "queue": st.just("q")}),
    )  # fmt: skip


flows = st.fixed_dictionaries(
    {"flow": st.just("f"), "language": st.just("en"), "start": IDS,
     "nodes": st.dictionaries(IDS, node(), min_size=1, max_size=6)},
    optional={"globals": st.dictionaries(KEYS, IDS, max_size=2)},
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(flows)
def test_validator_never_crashes_and_positions_every_issue(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False)
    try:
        loaded = load_text(text, "f.yaml")
    except (FlowSyntaxError, FlowValidationError) as err:
        issues = [err.issue] if isinstance(err, FlowSyntaxError) else err.issues
        assert issues and all(i.pos.file == "f.yaml" and i.pos.line >= 1 for i in issues)
        return
    issues = check(loaded, prompts=None)
    lines = text.count("\n") + 1
    assert all(1 <= i.pos.line <= lines for i in issues)
    if not issues:
        # An accepted flow has no loop that could spin without the caller.
        assert loops(successors(loaded.model, input_free=True)) == []


ENDINGS = {"self_served", "transferred", "failed", "abandoned"}
PRESSES = st.lists(st.sampled_from("0123456789*#"), max_size=8)
KINDS = st.sampled_from(["play", "say", "set", "menu", "branch", "gather"])


@st.composite
def runnable_flows(draw: st.DrawFn) -> dict[str, Any]:
    """Flows that are mostly valid: node i continues to i+1 without input (so no input-free
    loop), menus jump anywhere, and the last node hangs up or transfers."""
    kinds = draw(st.lists(KINDS, min_size=1, max_size=6))
    n = len(kinds)
    ids = [f"n{i}" for i in range(n + 1)]
    nodes: dict[str, Any] = {}
    for i, kind in enumerate(kinds):
        nxt = ids[i + 1]
        if kind == "menu":
            keys = draw(st.lists(st.sampled_from("0123456789*#"), min_size=1, max_size=3,
                                 unique=True))  # fmt: skip
            options = [{"key": k, "goto": draw(st.sampled_from(ids))} for k in keys]
            nodes[ids[i]] = {"type": "menu", "prompt": "p/m", "options": options,
                             "retries": draw(st.integers(0, 2)), "fallback": nxt}  # fmt: skip
        elif kind == "branch":
            later = draw(st.sampled_from(ids[i + 1 :]))
            nodes[ids[i]] = {"type": "branch", "else": nxt,
                             "cases": [{"when": "x == '1'", "goto": later}]}  # fmt: skip
        elif kind == "gather":
            nodes[ids[i]] = {"type": "gather", "var": "x", "prompt": "p/g", "max_length": 2,
                             "retries": 1, "next": nxt, "fallback": nxt}  # fmt: skip
        elif kind == "set":
            nodes[ids[i]] = {"type": "set", "values": {"x": "1"}, "next": nxt}
        else:
            nodes[ids[i]] = {"type": kind, "prompt": "p/x", "next": nxt}
    end = draw(st.sampled_from(["hangup", "transfer"]))
    nodes[ids[n]] = {"type": "hangup"} if end == "hangup" else {"type": "transfer", "queue": "q"}
    return {"flow": "gen", "language": "en", "start": "n0", "globals": {"*": "repeat"},
            "variables": {"x": "0"}, "defaults": {"input": "dtmf"}, "nodes": nodes}  # fmt: skip


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(runnable_flows(), PRESSES)
async def test_every_accepted_flow_ends_for_any_keys(data: dict[str, Any], keys: list[str]) -> None:
    text = yaml.safe_dump(data, sort_keys=False)
    loaded = load_text(text, "gen.yaml")
    assume(not check(loaded, prompts=None, flows={}))
    out = await place_call(CompiledFlow(loaded), [When(None, key) for key in keys])
    assert out.error is None
    assert out.result.outcome in ENDINGS
    assert out.result.path and out.result.path[0] == "n0"
    assert out.call.hung_up or out.call.transfer_to == "queue-q"
