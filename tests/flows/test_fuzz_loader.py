"""Fuzz of the flow loader and validator (hypothesis, bounded): arbitrary bytes as a file, arbitrary
text and YAML-ish token soup (anchors, aliases, tags, nesting, dates, long numbers, control
characters) as posted text. Whatever comes in, the answer is a model or positioned one-line
problems (FlowSyntaxError / FlowValidationError), never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.flows.errors import FlowSyntaxError, FlowValidationError
from ivr.flows.loader import load_file
from ivr.flows.positions import FlowIssue
from ivr.flows.validate import compile_flow

HEAD = "flow: fuzz\nlanguage: en\nstart: a\n"
TOKENS = st.sampled_from([
    "\n", "  ", "- ", ": ", ", ", "[", "]", "{", "}", "? ", "---\n", "...\n", "#", "'", '"', "|",
    ">", "&a ", "&b ", "*a", "*b", "<<: *a", "!!str ", "!!int ", "!!timestamp ", "!!binary ",
    "!!python/object:os.system ", "!custom ", "!!set ", "%YAML 1.1\n", "nodes:", "a:", "b:",
    "type: say", "type: menu", "type: branch", "type: lookup", "type: self_service",
    "type: authenticate", "text: ", "prompt: p/x", "next: a", "goto: b", "options:",
    "cases:", "when: ", "x == 1", "(", ")", "not ", "customer.name", "{customer.name}",
    "action: balance", "by: account", "on: {found: a}", "2026-13-45", "2026-02-29", "1e999",
    "0x1F", "0o17", ".nan", "yes", "~", "7" * 4400, "\t", "\x00", "\x1b", "\udc80", "\ufeff",
    "é", "\u2028", "\r\n",
])  # fmt: skip


def yamlish() -> st.SearchStrategy[str]:
    return st.lists(TOKENS, max_size=60).map("".join)


def answered(issues: list[FlowIssue]) -> None:
    assert issues
    for issue in issues:
        assert issue.pos.line >= 1 and issue.pos.col >= 1
        assert "\n" not in issue.message


def check_text(text: str) -> None:
    try:
        compile_flow(text, "fuzz.yaml", prompts=None, flows={})
    except FlowSyntaxError as err:
        answered([err.issue])
    except FlowValidationError as err:
        answered(err.issues)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.one_of(yamlish(), st.text(max_size=300)))
def test_any_text_gives_a_model_or_positioned_problems(text: str) -> None:
    check_text(text)


@FUZZ
@given(yamlish())
def test_any_flow_body_gives_a_model_or_positioned_problems(body: str) -> None:
    check_text(HEAD + "nodes:\n  a: " + body)


@FUZZ
@given(st.one_of(st.binary(max_size=400), yamlish().map(lambda t: t.encode("utf-8", "replace"))))
def test_any_file_bytes_give_a_model_or_positioned_problems(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "flow.yaml"
    path.write_bytes(raw)
    try:
        load_file(path)
    except FlowSyntaxError as err:
        answered([err.issue])
    except FlowValidationError as err:
        answered(err.issues)
