"""`menu`: options by key and by spoken phrase (synonyms included), global keys, escalating
reprompts on no-input / no-match, then the fallback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from ivr.call.session import Gathered
from ivr.flows.nodes.base import (
    DtmfKey,
    Edge,
    Model,
    NodeBase,
    NodeRef,
    PromptId,
    Spoken,
    next_edge,
)
from ivr.flows.positions import FieldPath

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime

Mode = Literal["dtmf", "speech", "both"]


def normalize_phrase(text: str) -> str:
    return " ".join(text.casefold().split())


class Option(Model):
    key: DtmfKey | None = None
    # Phrases a caller may say for this option, synonyms included.
    say: list[str] = Field(default_factory=list)
    intent: str | None = None
    goto: NodeRef

    @model_validator(mode="after")
    def _reachable_somehow(self) -> Option:
        if self.key is None and not self.say:
            raise ValueError("an option needs a key, phrases to say, or both")
        return self


class Menu(NodeBase, Spoken):
    type: Literal["menu"]
    options: list[Option] = Field(min_length=1)
    # Reprompts after silence / after a key or phrase that is no option: 1st, 2nd, ... (the
    # last one repeats). None given: the menu prompt again.
    no_input: list[PromptId] = Field(default_factory=list)
    no_match: list[PromptId] = Field(default_factory=list)
    retries: int | None = Field(None, ge=0, le=10)
    fallback: NodeRef | None = None
    mode: Mode | None = None
    timeout: float | None = Field(None, gt=0, le=60)

    takes_input = True

    def edges(self) -> list[Edge]:
        out = [Edge(o.goto, ("options", i, "goto"), True) for i, o in enumerate(self.options)]
        return out + next_edge(self.fallback, "fallback", after_input=True)

    def prompts(self) -> list[tuple[str, FieldPath]]:
        out = super().prompts()
        out += [(p, ("no_input", i)) for i, p in enumerate(self.no_input)]
        return out + [(p, ("no_match", i)) for i, p in enumerate(self.no_match)]

    def grammar(self) -> list[str]:
        """The phrases a recognizer should listen for."""
        return [phrase for option in self.options for phrase in option.say]

    def choose(self, got: Gathered) -> Option | None:
        if got.mode == "speech":
            said = normalize_phrase(str(getattr(got, "text", None) or got.digits))
            return next((o for o in self.options if said in map(normalize_phrase, o.say)), None)
        return next((o for o in self.options if got.digits and o.key == got.digits), None)

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        rt.enter_menu(node_id)
        mode = self.mode or rt.defaults.input
        retries = rt.defaults.retries if self.retries is None else self.retries
        spoken: Spoken = self
        failures = 0
        while True:
            # No finish key: in a menu `#` is a choice (back), not the end of an entry.
            got = await rt.ask(spoken, mode=mode, timeout=self.timeout, finish_key="",
                               phrases=self.grammar())
            option = self.choose(got)
            if option is not None:
                rt.record(node_id, "speech" if got.mode == "speech" else "key", got.digits)
                rt.intent = option.intent or rt.intent
                return option.goto
            action = rt.global_target(got.digits) if got.digits else None
            if action is not None:
                rt.record(node_id, "global", got.digits)
                if action == "repeat":
                    spoken = self
                    continue
                return rt.back(node_id) if action == "back" else action
            rt.record(node_id, "no_match" if got.digits else "no_input", got.digits)
            failures += 1
            if failures > retries:
                return self.fallback or rt.defaults.fallback
            reprompts = self.no_match if got.digits else self.no_input
            if reprompts:
                spoken = Spoken(prompt=reprompts[min(failures, len(reprompts)) - 1])
            else:
                spoken = self
