"""The state of one call walking a flow, and the helpers nodes use to talk to the caller."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ivr.call.errors import FeatureUnavailable
from ivr.call.session import ALL_KEYS, Call, Gathered, GatherMode
from ivr.flows.compiled import CompiledFlow
from ivr.flows.disclosure import CallAuth
from ivr.flows.errors import FlowNotFound
from ivr.flows.nodes.base import Spoken
from ivr.flows.schema import Defaults, FlowFile
from ivr.flows.services import Services
from ivr.flows.text import render

log = logging.getLogger(__name__)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class FlowSource(Protocol):
    """Where `goto: {flow: ...}` finds other flows (the catalog's published versions)."""

    async def flow(self, name: str) -> CompiledFlow: ...


@dataclass
class FlowContext:
    """What is known about the call when the flow starts (and grows as it runs)."""

    caller: str | None = None
    dnis: str | None = None
    channel: str | None = None  # Asterisk's channel name (its endpoint: the trunk or peer)
    customer: dict[str, Any] | None = None
    variables: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    told: list[str] = field(default_factory=list)  # what the IVR told that an agent should know
    state: dict[str, Any] = field(default_factory=dict)  # the hooks' memory of this call
    auth: CallAuth = field(default_factory=CallAuth)  # who the caller proved to be (engine's)


@dataclass(frozen=True)
class InputRecord:
    node: str
    kind: str  # key, speech, digits, global, no_input, no_match, invalid
    value: str = ""
    confidence: float | None = None


class Runtime:
    def __init__(
        self, call: Call, flow: CompiledFlow, ctx: FlowContext, services: Services,
        flows: FlowSource | None, now: Callable[[], datetime], path: list[str],
    ) -> None:  # fmt: skip
        self.call, self.flow, self.ctx, self.services = call, flow, ctx, services
        self.entry = flow.name
        self._flows = flows
        self._visited: dict[str, CompiledFlow] = {flow.name: flow}
        self.now = now
        self.path = path
        self.inputs: list[InputRecord] = []
        self.intent: str | None = None
        self.confidence: float | None = None
        self.outcome: str | None = None
        self.self_served = False
        self.menus: list[str] = []
        self.speech_ok = True
        self.tts_ok = True
        for name, value in flow.model.variables.items():
            ctx.variables.setdefault(name, value)

    @property
    def model(self) -> FlowFile:
        return self.flow.model

    @property
    def defaults(self) -> Defaults:
        return self.flow.model.defaults

    def visit(self, node_id: str) -> None:
        prefix = "" if self.flow.name == self.entry else f"{self.flow.name}:"
        self.path.append(prefix + node_id)

    def record(
        self, node: str, kind: str, value: str = "", confidence: float | None = None
    ) -> None:
        self.inputs.append(InputRecord(node, kind, value, confidence))

    def data(self) -> dict[str, Any]:
        """Everything placeholders and conditions can read."""
        now = self.now()
        calendar = self.model.calendar
        local = calendar.local(now) if calendar else now
        customer = self.ctx.customer or {}
        return {
            **self.ctx.variables,
            "caller": {"number": self.ctx.caller, "dnis": self.ctx.dnis},
            "customer": customer or None,
            "segment": customer.get("segment"),
            "language": self.ctx.language or self.model.language,
            "intent": self.intent,
            "time": local.strftime("%H:%M"),
            "weekday": DAY_NAMES[local.weekday()],
            "date": local.date().isoformat(),
            "business_hours": calendar.is_open(now) if calendar else True,
            "holiday": calendar.is_holiday(now) if calendar else False,
        }

    def render(self, text: str) -> str:
        return render(text, self.data())

    async def speak(self, spoken: Spoken | None, *, interrupt: str = "") -> str | None:
        """Say text when TTS works, else play the prompt; returns a key that interrupted."""
        if spoken is None:
            return None
        if spoken.text is not None and await self.say_text(self.render(spoken.text)):
            return None
        if spoken.prompt is not None:
            return await self.call.play(spoken.prompt, interrupt=interrupt)
        return None

    async def say_text(self, text: str) -> bool:
        """Speak `text` as it is (TTS); False when this call cannot synthesize speech."""
        if not self.tts_ok:
            return False
        try:
            await self.call.say(text)
        except FeatureUnavailable as err:
            self.tts_ok = False
            log.info("call %s: %s; playing prompts instead", self.call.channel, err)
            return False
        return True

    async def interaction_id(self) -> int | None:
        """The interaction the runner opened for this call (IVR_INTERACTION_ID), read once."""
        if "interaction_id" not in self.ctx.state:
            value = await self.call.get_var("IVR_INTERACTION_ID")
            number = int(value) if value and value.isdigit() else None
            self.ctx.state["interaction_id"] = number
        found = self.ctx.state["interaction_id"]
        return found if isinstance(found, int) else None

    async def ask(
        self, spoken: Spoken | None, *, mode: GatherMode, max_digits: int = 1,
        finish_key: str = "#", timeout: float | None = None,
        phrases: Sequence[str] | None = None,
    ) -> Gathered:  # fmt: skip
        """Prompt and collect; speech falls back to the keypad once the call says it cannot."""
        prompt = spoken.prompt if spoken else None
        if spoken is not None and spoken.text is not None and (self.tts_ok or prompt is None):
            key = await self.speak(Spoken(text=spoken.text))
            prompt = None if self.tts_ok else prompt
            if key:
                return Gathered(key, "max_digits")
        kwargs: dict[str, Any] = {
            "prompt": prompt, "max_digits": max_digits, "finish_on_key": finish_key,
            "timeout": timeout or self.defaults.first_input_timeout,
            "inter_digit_timeout": self.defaults.inter_digit_timeout,
        }  # fmt: skip
        if mode != "dtmf" and self.speech_ok:
            try:
                # A menu's grammar (its phrases) makes recognition far more accurate than
                # free speech.
                return await self.call.gather(mode=mode, phrases=phrases, **kwargs)
            except FeatureUnavailable as err:
                self.speech_ok = False
                log.info("call %s: %s; asking for keys", self.call.channel, err)
                key = await self.call.play(self.defaults.keypad_prompt, interrupt=ALL_KEYS)
                if key:  # the caller answers on the keypad over the notice: that is the answer
                    return await self._rest_of_keys(key, kwargs)
        return await self.call.gather(mode="dtmf", **kwargs)

    async def _rest_of_keys(self, first: str, kwargs: dict[str, Any]) -> Gathered:
        if first == kwargs["finish_on_key"]:
            return Gathered("", "empty")
        if kwargs["max_digits"] <= 1:
            return Gathered(first, "max_digits")
        rest = await self.call.gather(**{
            **kwargs, "prompt": None, "max_digits": kwargs["max_digits"] - 1,
            "timeout": kwargs["inter_digit_timeout"],
        })  # fmt: skip
        reason = "timeout" if rest.reason == "empty" else rest.reason
        return Gathered(first + rest.digits, reason)

    def enter_menu(self, node_id: str) -> None:
        if not self.menus or self.menus[-1] != node_id:
            self.menus.append(node_id)

    def back(self, node_id: str) -> str:
        """`#`: the menu before this one (or this one again at the top)."""
        if self.menus and self.menus[-1] == node_id:
            self.menus.pop()
        return self.menus.pop() if self.menus else node_id

    def global_target(self, key: str) -> str | None:
        return self.model.active_globals().get(key)

    async def enter_flow(self, name: str) -> str:
        """Switch to another flow (pinned for the rest of the call); returns its start node."""
        target = self._visited.get(name)
        if target is None:
            if self._flows is None:
                raise FlowNotFound(f"flow {name!r}: no flow catalog to find it in")
            target = await self._flows.flow(name)
            self._visited[name] = target
        self.flow = target
        self.menus.clear()
        for var, value in target.model.variables.items():
            self.ctx.variables.setdefault(var, value)
        return target.model.start
