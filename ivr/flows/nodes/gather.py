"""`gather`: collect digits into a variable: plain digits, an account number, a date or an
amount (`*` is the decimal point), with reprompts on silence or invalid entries."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from ivr.flows.nodes.base import (
    DtmfKey,
    Edge,
    NodeBase,
    NodeRef,
    PromptId,
    Spoken,
    VarName,
    next_edge,
)
from ivr.flows.nodes.code_dialogue import CodeConfirm, ask_code
from ivr.flows.positions import FieldPath

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime

Kind = Literal["digits", "account", "date", "amount"]
DATE_ORDERS = {"dmy": "%d%m%Y", "mdy": "%m%d%Y", "ymd": "%Y%m%d"}


def normalize(kind: Kind, digits: str, date_order: str = "dmy") -> str | None:
    """The value to store, or None when the entry is not a valid `kind`."""
    if kind == "amount":
        whole, _, cents = digits.partition("*")
        ok = whole.isdigit() and (cents == "" or (cents.isdigit() and len(cents) <= 2))
        return f"{int(whole)}.{cents.ljust(2, '0')}" if ok else None
    if not digits.isdigit():
        return None
    if kind == "date":
        try:
            return dt.datetime.strptime(digits, DATE_ORDERS[date_order]).date().isoformat()
        except ValueError:
            return None
    return digits


CONFIRMED_KINDS = ("digits", "account")  # a spoken date or amount is not read back (yet)


class Gather(NodeBase, Spoken, CodeConfirm):
    type: Literal["gather"]
    kind: Kind = "digits"
    var: VarName
    min_length: int = Field(1, ge=1, le=32)
    max_length: int = Field(16, ge=1, le=32)
    finish_key: DtmfKey = "#"
    date_order: Literal["dmy", "mdy", "ymd"] = "dmy"
    no_input: list[PromptId] = Field(default_factory=list)
    invalid: list[PromptId] = Field(default_factory=list)
    retries: int | None = Field(None, ge=0, le=10)
    fallback: NodeRef | None = None
    mode: Literal["dtmf", "speech", "both"] | None = None
    timeout: float | None = Field(None, gt=0, le=60)
    next: NodeRef

    takes_input = True

    @model_validator(mode="after")
    def _lengths(self) -> Gather:
        if self.min_length > self.max_length:
            raise ValueError(f"min_length {self.min_length} exceeds max_length {self.max_length}")
        if self.kind == "date" and self.max_length < 8:
            raise ValueError("a date needs max_length of at least 8 (DDMMYYYY)")
        dialogue = {"confirm", "confirm_below", "max_tries", "ask_digits"} & self.model_fields_set
        if dialogue and self.kind not in CONFIRMED_KINDS:
            raise ValueError(f"{'/'.join(sorted(dialogue))} applies to kind digits or account, "
                             f"not {self.kind}")
        return self

    def edges(self) -> list[Edge]:
        return [Edge(self.next, ("next",), True), *next_edge(self.fallback, "fallback")]

    def prompts(self) -> list[tuple[str, FieldPath]]:
        out = super().prompts()
        out += [(p, ("no_input", i)) for i, p in enumerate(self.no_input)]
        return out + [(p, ("invalid", i)) for i, p in enumerate(self.invalid)]

    def produces(self) -> set[str]:
        return {self.var}

    def check(self, digits: str) -> str | None:
        if not self.min_length <= len(digits) <= self.max_length:
            return None
        return normalize(self.kind, digits, self.date_order)

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        retries = rt.defaults.retries if self.retries is None else self.retries
        max_digits = 8 if self.kind == "date" else self.max_length
        spoken: Spoken = self
        for attempt in range(retries + 1):
            if self.kind in CONFIRMED_KINDS:  # a spoken number is read back when doubtful
                got = await ask_code(rt, node_id, spoken, self, mode=self.mode or "dtmf",
                                     length=max_digits, finish_key=self.finish_key,
                                     timeout=self.timeout)
            else:
                got = await rt.ask(
                    spoken, mode=self.mode or "dtmf", max_digits=max_digits,
                    finish_key=self.finish_key, timeout=self.timeout,
                )  # fmt: skip
            value = self.check(got.digits)
            if value is not None:
                rt.ctx.variables[self.var] = value
                rt.record(node_id, "digits", value)
                return self.next
            rt.record(node_id, "invalid" if got.digits else "no_input", got.digits)
            reprompts = self.invalid if got.digits else self.no_input
            if reprompts:
                spoken = Spoken(prompt=reprompts[min(attempt, len(reprompts) - 1)])
        return self.fallback or rt.defaults.fallback
