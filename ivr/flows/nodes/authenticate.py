"""`authenticate`: send a one-time code to the contact on file, let the caller key it in,
verify (with retries); `*` asks for a new code (within the service's limits). The code may be
keyed or, when the call has speech, said digit by digit.

Outcomes: verified, failed, unavailable, and optionally locked (too many wrong codes: the
service has locked the customer out; unrouted it goes where `failed` goes). `auth_result`
says why (wrong, expired, used, locked, rate_limited...), for the transfer context.

Verified, the call is authenticated for the customer it holds (flows/disclosure.py): nodes
that tell that customer's data may run. Not verified, a customer the caller only named by a
keyed account number is dropped (the call goes on as for an unknown caller; the number keyed
stays in its variable for the agent); one found by the calling number stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ivr.flows.nodes.base import DtmfKey, PromptId, Routed, Spoken
from ivr.flows.nodes.code_dialogue import CodeConfirm, ask_code
from ivr.flows.positions import FieldPath
from ivr.flows.services import AUTH_LOCKED, AUTH_OUTCOMES, HookResult

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Authenticate(Routed, CodeConfirm):
    type: Literal["authenticate"]
    method: Literal["otp"] = "otp"
    # Keys, or keys and spoken digits; None: spoken too unless the flow only listens to keys.
    mode: Literal["dtmf", "both"] | None = None
    prompt: PromptId = "ivr/auth-enter-code"
    retry_prompt: PromptId = "ivr/auth-code-wrong"
    resent_prompt: PromptId | None = None  # "a new code is on its way"
    no_resend_prompt: PromptId | None = None  # "no more codes now: enter the one you have"
    locked_prompt: PromptId | None = None  # "for your security ... an agent will help"
    code_length: int = Field(6, ge=4, le=10)
    attempts: int = Field(3, ge=1, le=5)
    resend_key: DtmfKey = "*"
    resends: int = Field(2, ge=0, le=5)

    takes_input = True

    def outcomes(self) -> tuple[str, ...]:
        return (*AUTH_OUTCOMES, AUTH_LOCKED)

    def unrouted(self) -> list[str]:
        return [] if self.next else [o for o in AUTH_OUTCOMES if o not in self.on]

    def route(self, outcome: str) -> str | None:
        if outcome == AUTH_LOCKED and AUTH_LOCKED not in self.on:
            outcome = "failed"
        return super().route(outcome)

    def prompts(self) -> list[tuple[str, FieldPath]]:
        named = (("prompt", self.prompt), ("retry_prompt", self.retry_prompt),
                 ("resent_prompt", self.resent_prompt),
                 ("no_resend_prompt", self.no_resend_prompt),
                 ("locked_prompt", self.locked_prompt))  # fmt: skip
        return [(prompt, (name,)) for name, prompt in named if prompt]

    def produces(self) -> set[str]:
        return {"authenticated", "auth_result"}

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        rt.ctx.variables["authenticated"] = "no"
        sent = await self._send(rt, node_id)
        if sent.outcome != "sent":
            return await self._end(rt, node_id, sent.outcome)
        spoken = Spoken(prompt=self.prompt)
        mode = self.mode or ("dtmf" if rt.defaults.input == "dtmf" else "both")
        tries = resends = 0
        while tries < self.attempts:
            # a spoken code is read back when a digit is doubtful (code_dialogue.py)
            got = await ask_code(rt, node_id, spoken, self, mode=mode, length=self.code_length)
            if self.resend_key in got.digits and resends < self.resends:
                resends += 1
                again = await self._resend(rt, node_id)
                if again is None:
                    return await self._end(rt, node_id, AUTH_LOCKED)
                spoken = again
                continue
            tries += 1
            if not got.digits:  # silence costs a try here, never a wrong entry on the code
                rt.record(node_id, "auth", "no_input")
                spoken = Spoken(prompt=self.prompt)
                continue
            checked = await rt.services.verify_otp(rt.ctx, got.digits)
            rt.ctx.variables.update(checked.data)
            rt.record(node_id, "auth", checked.data.get("auth_result", checked.outcome))
            if checked.outcome == "verified":
                rt.ctx.variables["authenticated"] = "yes"
                rt.ctx.auth.verified(rt.ctx.customer)
                return self.route("verified")
            if checked.outcome == AUTH_LOCKED:
                return await self._end(rt, node_id, AUTH_LOCKED)
            spoken = Spoken(prompt=self.retry_prompt)
        return await self._end(rt, node_id, "failed")

    async def _send(self, rt: Runtime, node_id: str) -> HookResult:
        sent = await rt.services.send_otp(rt.ctx, self.method)
        rt.ctx.variables.update(sent.data)
        if sent.outcome == "sent":
            rt.record(node_id, "auth", "sent")
        return sent

    async def _resend(self, rt: Runtime, node_id: str) -> Spoken | None:
        """A new code; None when the customer is locked out. Over the hourly limit the code
        already sent stays valid, so the caller is asked for it again."""
        again = await self._send(rt, node_id)
        if again.outcome != "sent":
            rt.record(node_id, "auth", again.outcome)
        if again.outcome == AUTH_LOCKED:
            return None
        wanted = self.resent_prompt if again.outcome == "sent" else self.no_resend_prompt
        return Spoken(prompt=wanted or self.prompt)

    async def _end(self, rt: Runtime, node_id: str, outcome: str) -> str | None:
        """Fail closed: anything but a verified code leaves the caller unauthenticated."""
        if outcome == AUTH_LOCKED and self.locked_prompt:
            await rt.call.play(self.locked_prompt)
        final = outcome if outcome in (AUTH_LOCKED, "failed") else "unavailable"
        rt.ctx.variables.setdefault("auth_result", final)
        rt.record(node_id, "auth", final)
        if rt.ctx.auth.method(rt.ctx.customer) is None:
            # A customer found by a keyed account number and not proven is not the caller:
            # forgotten, so no later node can tell their data (flows/disclosure.py).
            rt.ctx.customer = None
        return self.route(final)
