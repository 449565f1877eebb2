"""Runs one call: opens its interaction, runs the flow on a Call, and always writes the result.

The interaction is written in `finally`, so a caller who hangs up mid-menu still leaves a record
(outcome `abandoned`), and a flow that fails still says goodbye before the line drops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ivr.call.errors import CallError, CallHangup
from ivr.call.session import AgiLink, Call
from ivr.store.db import Database
from ivr.store.domain import Turn
from ivr.store.repositories.interactions import InteractionRepository

log = logging.getLogger(__name__)
WITHHELD = "withheld"


@dataclass
class FlowResult:
    """What a flow reports: its outcome, the path of nodes it took and the caller's intent."""

    outcome: str = "failed"
    path: list[str] = field(default_factory=list)
    intent: str | None = None


Flow = Callable[[Call, FlowResult], Awaitable[None]]


class CallRunner:
    def __init__(self, db: Database, flow: Flow, flow_name: str) -> None:
        self._interactions = InteractionRepository(db)
        self._flow = flow
        self._flow_name = flow_name

    async def handle(self, link: AgiLink) -> None:
        call = Call(link)
        opened = await asyncio.to_thread(
            self._interactions.start, call.caller or WITHHELD, "voice", flow_name=self._flow_name
        )
        result = FlowResult()
        try:
            # On the channel, so the CDR and the agent's screen can find this interaction.
            await call.set_var("IVR_INTERACTION_ID", str(opened.id))
            await self._flow(call, result)
        except CallHangup:
            result.outcome = "abandoned" if result.outcome == "failed" else result.outcome
        except CallError as err:
            log.error("call %s: flow %s failed: %s", call.channel, self._flow_name, err)
            result.outcome = "failed"
            await _goodbye(call)
        finally:
            turns = [Turn("system", t.kind, int(t.t * 1000), None) for t in call.turns]
            await asyncio.shield(
                asyncio.to_thread(
                    self._interactions.finish,
                    opened.id,
                    result.outcome,
                    result.intent,
                    result.path,
                    turns,
                )
            )
            await link.close()


async def _goodbye(call: Call) -> None:
    """Never drop a leg silently: apologise and hang up, unless the caller is already gone."""
    try:
        await call.play("ivr/sorry-technical-problem")
        await call.hangup()
    except (CallHangup, CallError) as err:
        log.info("call %s: goodbye not played: %s", call.channel, err)
