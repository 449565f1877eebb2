"""`say`: speak text (TTS) or play its prompt, optionally followed by digits said one by one."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from ivr.flows.nodes.base import Edge, NodeBase, NodeRef, Spoken, next_edge
from ivr.flows.positions import FieldPath

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Say(NodeBase, Spoken):
    type: Literal["say"]
    digits: str | None = None  # e.g. "{account_number}": said digit by digit, no TTS needed
    next: NodeRef | None = None

    def edges(self) -> list[Edge]:
        return next_edge(self.next, "next")

    def texts(self) -> list[tuple[str, FieldPath]]:
        out = super().texts()
        return out + ([(self.digits, ("digits",))] if self.digits else [])

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        await rt.speak(self)
        spoken_by_tts = self.text is not None and rt.tts_ok  # the text already says them
        if self.digits and not spoken_by_tts:
            digits = re.sub(r"[^0-9*#]", "", rt.render(self.digits))
            if digits:
                await rt.call.say_digits(digits)
        return self.next
