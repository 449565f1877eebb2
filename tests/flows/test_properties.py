"""Property tests: the loader and validator never crash on arbitrary flows, and report
problems only as positioned issues."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.flows.errors import FlowSyntaxError, FlowValidationError
from ivr.flows.graph import loops, successors
from ivr.flows.loader import load_text
from ivr.flows.validate import check

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
