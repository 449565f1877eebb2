"""The minimal built-in flow, served until flows are loaded from dialplans/: a one-key menu."""

from __future__ import annotations

from ivr.call.session import Call
from ivr.flows.runner import FlowResult

NAME = "builtin-welcome"
MENU_TIMEOUT = 5.0


async def welcome(call: Call, result: FlowResult) -> None:
    result.path.append("answer")
    await call.answer()
    result.path.append("menu")
    choice = await call.gather(prompt="ivr/welcome-menu", max_digits=1, timeout=MENU_TIMEOUT)
    if choice.digits == "1":
        result.path.append("option-1")
        result.intent = "status"
        await call.play("ivr/thank-you")
        result.outcome = "self_served"
    else:
        result.path.append("no-input" if not choice.digits else "no-match")
        result.outcome = "failed"
    result.path.append("goodbye")
    await call.play("ivr/goodbye")
    await call.hangup()
