"""`authenticate`: send a one-time code, let the caller key it in, verify (with retries)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from ivr.flows.nodes.base import PromptId, Routed, Spoken
from ivr.flows.positions import FieldPath
from ivr.flows.services import AUTH_OUTCOMES

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Authenticate(Routed):
    OUTCOMES: ClassVar[tuple[str, ...]] = AUTH_OUTCOMES

    type: Literal["authenticate"]
    method: Literal["otp"] = "otp"
    prompt: PromptId = "ivr/auth-enter-code"
    retry_prompt: PromptId = "ivr/auth-code-wrong"
    code_length: int = Field(6, ge=4, le=10)
    attempts: int = Field(3, ge=1, le=5)

    takes_input = True

    def prompts(self) -> list[tuple[str, FieldPath]]:
        return [(self.prompt, ("prompt",)), (self.retry_prompt, ("retry_prompt",))]

    def produces(self) -> set[str]:
        return {"authenticated"}

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        rt.ctx.variables["authenticated"] = "no"
        sent = await rt.services.send_otp(rt.ctx, self.method)
        if sent.outcome != "sent":
            rt.record(node_id, "auth", "unavailable")
            return self.route("unavailable")
        spoken = Spoken(prompt=self.prompt)
        for _ in range(self.attempts):
            got = await rt.ask(spoken, mode="dtmf", max_digits=self.code_length)
            checked = await rt.services.verify_otp(rt.ctx, got.digits)
            if checked.outcome == "verified":
                rt.ctx.variables["authenticated"] = "yes"
                rt.record(node_id, "auth", "verified")
                return self.route("verified")
            spoken = Spoken(prompt=self.retry_prompt)
        rt.record(node_id, "auth", "failed")
        return self.route("failed")
