"""`transfer`: hand the caller to a queue or an extension with priority and skill, passing what
the IVR learned as IVR_* channel variables so the agent need not ask again: the session
variables plus the TransferContext (who, authenticated, intent, what the IVR already told),
which services that observe transfers publish for the agent's screen (LiveContexts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ivr.customers.context import TransferContext
from ivr.flows.nodes.base import MaybeSpoken, NodeBase, VarName
from ivr.flows.positions import FieldPath
from ivr.flows.services import TransferObserver

if TYPE_CHECKING:
    from ivr.flows.runtime import Runtime


class Transfer(NodeBase, MaybeSpoken):
    type: Literal["transfer"]
    queue: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    extension: Annotated[str, StringConstraints(pattern=r"^[0-9]+$")] | None = None
    priority: int = Field(0, ge=0, le=100)  # Asterisk queues serve higher numbers first
    priority_by_segment: dict[str, int] = Field(default_factory=dict)
    skill: str | None = None  # may use placeholders, e.g. "{intent}"
    pass_vars: list[VarName] | None = Field(None, alias="pass")  # default: every session var

    @model_validator(mode="after")
    def _one_destination(self) -> Transfer:
        if (self.queue is None) == (self.extension is None):
            raise ValueError("give exactly one of queue: or extension:")
        if self.queue is not None and self.queue.lower() == "general":
            # app_queue reads every [general] section of queues.conf as its own settings
            raise ValueError("a queue cannot be named 'general' in Asterisk (queues.conf keeps "
                             "its settings there): choose another name, e.g. 'agents'")
        return self

    def texts(self) -> list[tuple[str, FieldPath]]:
        return super().texts() + ([(self.skill, ("skill",))] if self.skill else [])

    def destination(self) -> str:
        return f"queue-{self.queue}" if self.queue else str(self.extension)

    def context_vars(self, rt: Runtime) -> dict[str, str]:
        variables = rt.ctx.variables
        names = variables.keys() if self.pass_vars is None else self.pass_vars
        out = {name: variables[name] for name in names if name in variables}
        segment = (rt.ctx.customer or {}).get("segment")
        out["priority"] = str(self.priority_by_segment.get(str(segment), self.priority))
        if self.skill:
            out["skill"] = rt.render(self.skill)
        if rt.intent:
            out["intent"] = rt.intent
        if rt.ctx.customer and rt.ctx.customer.get("id") is not None:
            out["customer_id"] = str(rt.ctx.customer["id"])
        return out

    async def transfer_context(self, rt: Runtime) -> TransferContext:
        customer = rt.ctx.customer or {}
        variables = rt.ctx.variables
        authenticated = rt.ctx.auth.method(customer) == "otp"  # for THIS customer
        raw_id = customer.get("id")
        extra = {"transfer_to": self.destination()}
        if raw_id is not None and not str(raw_id).isdigit():
            extra["crm_customer_id"] = str(raw_id)
        if "auth_result" in variables:
            extra["auth_result"] = variables["auth_result"]
        if variables.get("auth_result") == "locked":
            extra["reason"] = "otp_locked"
        return TransferContext(
            channel_id=rt.call.channel, caller=rt.ctx.caller,
            customer_id=int(raw_id) if raw_id is not None and str(raw_id).isdigit() else None,
            customer_name=customer.get("name"), authenticated=authenticated,
            auth_method=rt.ctx.auth.method(rt.ctx.customer),
            intent=rt.intent, told=tuple(rt.ctx.told),
            interaction_id=await rt.interaction_id(),
            language=rt.ctx.language or rt.model.language, at=rt.now(), extra=extra,
        )  # fmt: skip

    async def run(self, rt: Runtime, node_id: str) -> str | None:
        rt.outcome = "transferred"
        await rt.speak(self.spoken())
        context = await self.transfer_context(rt)
        values = self.context_vars(rt)
        for name, value in context.channel_variables().items():
            if value:  # an empty IVR_INTERACTION_ID must not clear the runner's
                values[name.removeprefix("IVR_").lower()] = value
        if isinstance(rt.services, TransferObserver):
            await rt.services.transferring(rt.ctx, context)
        # Caller-influenced text (CRM names, intents posted by other systems) on one line:
        # the AGI encoder refuses CR/LF.
        flat = {name: " ".join(value.split()) for name, value in values.items()}
        await rt.call.transfer(self.destination(), flat)
        return None
