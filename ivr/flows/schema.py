"""Pydantic models of a flow file (dialplans/*.yaml).

    flow: main-en              # the flow's name (what routes and goto use)
    language: en
    start: welcome             # first node
    routes: ["18005550100"]    # dialled numbers (DNIS) answered by this flow
    globals: {"0": agent, "*": repeat, "#": back}   # keys that work in every menu
    defaults: {first_input_timeout: 5, inter_digit_timeout: 3, retries: 3, fallback: agent}
    calendar: {timezone: Europe/Moscow, hours: {mon-fri: "08:00-20:00"}, holidays: [2026-01-01]}
    variables: {queue: agents}
    nodes:
      welcome: {type: play, prompt: main/welcome, next: menu}

Node kinds live in ivr/flows/nodes/, one module each, listed in the NODE_KINDS registry.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from ivr.flows.calendar import Calendar
from ivr.flows.nodes import NODE_KINDS
from ivr.flows.nodes.base import (
    DTMF_KEYS,
    ID_PATTERN,
    Model,
    NodeBase,
    NodeRef,
    PromptId,
    VarName,
)

GLOBAL_ACTIONS = ("repeat", "back")
DNIS_PATTERN = r"^\+?[0-9A-Za-z_*#-]+$"
DEFAULT_GLOBALS = {"0": "agent", "*": "repeat", "#": "back"}

if TYPE_CHECKING:
    AnyNode = NodeBase
else:
    AnyNode = Annotated[
        functools.reduce(operator.or_, NODE_KINDS.values()), Field(discriminator="type")
    ]


class Defaults(Model):
    first_input_timeout: float = Field(5.0, gt=0, le=60)
    inter_digit_timeout: float = Field(3.0, gt=0, le=60)
    retries: int = Field(3, ge=0, le=10)
    fallback: NodeRef | None = None
    input: Literal["dtmf", "speech", "both"] = "both"
    keypad_prompt: PromptId = "ivr/please-use-keypad"


class FlowFile(Model):
    flow: Annotated[str, StringConstraints(pattern=ID_PATTERN)]
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
    description: str = ""
    start: NodeRef
    routes: list[Annotated[str, StringConstraints(pattern=DNIS_PATTERN)]] = Field(
        default_factory=list
    )
    globals: dict[str, str] | None = None
    defaults: Defaults = Defaults()
    calendar: Calendar | None = None
    variables: dict[VarName, str] = Field(default_factory=dict)
    nodes: dict[Annotated[str, StringConstraints(pattern=ID_PATTERN)], AnyNode] = Field(
        min_length=1
    )

    @field_validator("globals")
    @classmethod
    def _global_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if len(key) != 1 or key not in DTMF_KEYS:
                raise ValueError(f"global key {key!r} is not a phone key (0-9, * or #)")
        return value

    def active_globals(self) -> dict[str, str]:
        """Global keys in force: the file's, or the defaults whose target exists (`0` goes to a
        node named `agent` only if the flow has one)."""
        if self.globals is not None:
            return {k: v for k, v in self.globals.items() if v}
        return {k: v for k, v in DEFAULT_GLOBALS.items() if v in GLOBAL_ACTIONS or v in self.nodes}
