"""What every node kind shares: the strict model base, field types, and the small interface the
validator and the engine use (edges, prompts, texts, conditions, produced variables, run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from ivr.flows.positions import FieldPath
from ivr.flows.text import placeholders

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime

DTMF_KEYS = "0123456789*#"
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
PROMPT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$"
VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
IDENTITY = frozenset({"identity"})

NodeRef = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
PromptId = Annotated[str, StringConstraints(pattern=PROMPT_PATTERN)]
VarName = Annotated[str, StringConstraints(pattern=VAR_PATTERN)]


def _check_key(value: str) -> str:
    if len(value) != 1 or value not in DTMF_KEYS:
        raise ValueError(f"{value!r} is not a phone key; use one of 0-9, * or #")
    return value


DtmfKey = Annotated[str, AfterValidator(_check_key)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


@dataclass(frozen=True)
class Edge:
    """A way out of a node: the target node id and where the reference sits in the node."""

    target: str
    path: FieldPath
    after_input: bool = False  # taken only once the caller has pressed or said something


class Spoken(Model):
    """Something said to the caller: a recorded prompt id, text (needs TTS; `{placeholders}`),
    or both (text when TTS is there, else the prompt)."""

    prompt: PromptId | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _something_to_say(self) -> Spoken:
        if self.prompt is None and self.text is None:
            raise ValueError("give a prompt id (prompt:) or text (text:) to say")
        return self


class NodeBase(Model):
    type: str

    takes_input: ClassVar[bool] = False

    def edges(self) -> list[Edge]:
        return []

    def prompts(self) -> list[tuple[str, FieldPath]]:
        prompt = getattr(self, "prompt", None)
        return [(prompt, ("prompt",))] if isinstance(prompt, str) else []

    def texts(self) -> list[tuple[str, FieldPath]]:
        text = getattr(self, "text", None)
        return [(text, ("text",))] if isinstance(text, str) else []

    def conditions(self) -> list[tuple[str, FieldPath]]:
        return []

    def produces(self) -> set[str]:
        """Session variables this node sets (placeholders after it may use them)."""
        return set()

    def reveals(self) -> frozenset[str]:
        """Policy steps (auth/policy.py) whose data this node tells: the engine runs it only
        for a call authenticated for the customer (flows/disclosure.py). Any text reading the
        customer (`{customer.*}`, `{segment}`) reveals their `identity`."""
        for text, _ in self.texts():
            for name in placeholders(text):
                if name.partition(".")[0] in ("customer", "segment"):
                    return IDENTITY
        return frozenset()

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        """Do the node's work; return the next node id, or None when the call is over."""
        raise NotImplementedError


def next_edge(target: str | None, *path: str | int, after_input: bool = False) -> list[Edge]:
    return [] if target is None else [Edge(target, path, after_input)]


class Routed(NodeBase):
    """A node whose hook returns a named outcome; `on:` routes each, `next:` catches the rest."""

    OUTCOMES: ClassVar[tuple[str, ...]] = ()

    on: dict[str, NodeRef] = Field(default_factory=dict)
    next: NodeRef | None = None

    def outcomes(self) -> tuple[str, ...]:
        return self.OUTCOMES

    def edges(self) -> list[Edge]:
        out = [Edge(t, ("on", name)) for name, t in self.on.items()]
        return out + next_edge(self.next, "next")

    def unrouted(self) -> list[str]:
        return [] if self.next else [o for o in self.outcomes() if o not in self.on]

    def unknown_outcomes(self) -> list[str]:
        return [name for name in self.on if name not in self.outcomes()]

    def route(self, outcome: str) -> str | None:
        return self.on.get(outcome, self.next)


class MaybeSpoken(Model):
    """An optional announcement before the node acts (`prompt:` and/or `text:`)."""

    prompt: PromptId | None = None
    text: str | None = None

    def spoken(self) -> Spoken | None:
        if self.prompt is None and self.text is None:
            return None
        return Spoken(prompt=self.prompt, text=self.text)
