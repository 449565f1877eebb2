"""`greet`: the caller's greeting before the menu — their name, the most relevant open item
("Your request 'router replacement' is scheduled for tomorrow between 10 and 12") — and the
repeat-contact offer ("Are you calling about your router again?"): yes goes to the node
`offers:` names for that intent, no or silence continues to `next:`.

    welcome:
      type: greet
      prompt: ivr/main-welcome         # played when the greeting cannot be spoken (no TTS)
      offer_prompt: ivr/greet-offer    # the offer without TTS ("... same thing again? press 1")
      offers: {router: request-status, billing: billing-menu}
      next: main-menu
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ivr.flows.nodes.base import DtmfKey, Edge, NodeBase, NodeRef, PromptId, Spoken, next_edge
from ivr.flows.nodes.menu import normalize_phrase
from ivr.flows.positions import FieldPath
from ivr.flows.services import Greeter

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime

log = logging.getLogger(__name__)
YES: Mapping[str, frozenset[str]] = {
    "en": frozenset({"yes", "yeah", "yep", "sure", "right", "correct", "that's right"}),
    "ru": frozenset({"да", "ага", "верно", "конечно", "да да"}),  # noqa: RUF001
}
# Only these hook values become session variables: the greeting's sentences hold CRM text
# (names, titles) that must never reach a channel variable unflattened.
KEPT = ("greeting_kind", "caller_status", "offer_intent")


class Greet(NodeBase):
    type: Literal["greet"]
    prompt: PromptId | None = None
    offers: dict[str, NodeRef] = Field(default_factory=dict)
    offer_prompt: PromptId = "ivr/greet-offer"
    yes_key: DtmfKey = "1"
    timeout: float | None = Field(None, gt=0, le=60)
    next: NodeRef

    def edges(self) -> list[Edge]:
        out = [Edge(t, ("offers", intent), True) for intent, t in self.offers.items()]
        return out + next_edge(self.next, "next")

    def prompts(self) -> list[tuple[str, FieldPath]]:
        out: list[tuple[str, FieldPath]] = [(self.prompt, ("prompt",))] if self.prompt else []
        return out + ([(self.offer_prompt, ("offer_prompt",))] if self.offers else [])

    def produces(self) -> set[str]:
        return set(KEPT)

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        language = rt.ctx.language or rt.model.language
        if not isinstance(rt.services, Greeter):
            rt.record(node_id, "greet", "generic")
            if self.prompt:
                await rt.call.play(self.prompt)
            return self.next
        await rt.interaction_id()  # lets the hook link the interaction to the customer
        zone = rt.model.calendar.timezone if rt.model.calendar else None
        result = await rt.services.greet(rt.ctx, language, zone)
        if result.customer is not None:
            rt.ctx.customer = dict(result.customer)
            rt.ctx.auth.found_by_caller_id(rt.ctx.customer)  # greeters look up the caller ID
        rt.ctx.variables.update({k: v for k, v in result.data.items() if k in KEPT})
        rt.record(node_id, "greet", result.outcome)
        text = result.data.get("greeting_text")
        spoke = bool(text) and await rt.say_text(text or "")
        item = result.data.get("greeting_item")
        if spoke and item:
            rt.ctx.told.append(item)  # only what the caller really heard
        elif not spoke and self.prompt:
            await rt.call.play(self.prompt)
        return await self._offer(rt, node_id, result.data, language)

    async def _offer(
        self, rt: Runtime, node_id: str, data: Mapping[str, str], language: str
    ) -> str | None:
        intent = data.get("offer_intent")
        target = self.offers.get(intent) if intent else None
        if intent is None or target is None:
            return self.next
        text = data.get("offer_text")
        spoken = None if text and await rt.say_text(text) else Spoken(prompt=self.offer_prompt)
        got = await rt.ask(spoken, mode=rt.defaults.input, timeout=self.timeout, finish_key="")
        said = normalize_phrase(got.text or "") if got.mode == "speech" else ""
        if got.digits == self.yes_key or said in YES.get(language, YES["en"]):
            rt.record(node_id, "offer", "yes")
            rt.intent = intent
            return target
        rt.record(node_id, "offer", "no" if got.digits or said else "no_input")
        return self.next
