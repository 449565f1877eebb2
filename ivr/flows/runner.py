"""Runs one call: picks its flow, opens its interaction, runs the flow, always writes the result.

The interaction is written in `finally`, so a caller who hangs up mid-menu still leaves a record
(outcome `abandoned`), and a flow that fails still says goodbye before the line drops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ivr.call.errors import CallError, CallHangup
from ivr.call.media import MediaPath
from ivr.call.session import AgiLink, Call
from ivr.flows.catalog import FlowCatalog
from ivr.flows.engine import FlowEngine, apologise
from ivr.flows.errors import FlowError
from ivr.flows.services import Services
from ivr.store.db import Database
from ivr.store.domain import WITHHELD, Turn
from ivr.store.repositories.interactions import InteractionRepository

log = logging.getLogger(__name__)


@dataclass
class FlowResult:
    """What a flow reports: its outcome, the path of nodes it took and the caller's intent."""

    outcome: str = "failed"
    path: list[str] = field(default_factory=list)
    intent: str | None = None


Flow = Callable[[Call, FlowResult], Awaitable[None]]


@dataclass(frozen=True)
class Picked:
    name: str
    version: int | None
    run: Flow


class CallRunner:
    """Answers each call with the published flow routed to its DNIS, or `fallback` when no
    flow is routed there (a fresh install before any flow is published)."""

    def __init__(
        self, db: Database, catalog: FlowCatalog, services: Services, fallback: tuple[str, Flow],
        *, media: MediaPath | None = None,
    ) -> None:
        self._media = media
        self._interactions = InteractionRepository(db)
        self._catalog = catalog
        self._services = services
        self._fallback = fallback

    async def pick(self, call: Call) -> Picked:
        flow = await self._catalog.for_dnis(call.dnis)
        if flow is None:
            return Picked(self._fallback[0], None, self._fallback[1])
        engine = FlowEngine(flow, self._services, flows=self._catalog)

        async def run(call: Call, result: FlowResult) -> None:
            await engine.run(call, result)

        return Picked(flow.name, flow.version, run)

    async def handle(self, link: AgiLink) -> None:
        call = Call(link, media=self._media)
        picked = await self.pick(call)
        opened = await asyncio.to_thread(
            self._interactions.start, call.caller or WITHHELD, "voice",
            flow_name=picked.name, flow_version=picked.version,
        )
        result = FlowResult()
        try:
            # On the channel, so the CDR and the agent's screen can find this interaction.
            await call.set_var("IVR_INTERACTION_ID", str(opened.id))
            await picked.run(call, result)
        except CallHangup:
            result.outcome = "abandoned" if result.outcome == "failed" else result.outcome
        except (CallError, FlowError) as err:
            log.error("call %s: flow %s failed: %s", call.channel, picked.name, err)
            result.outcome = "failed"
            await apologise(call)
        finally:
            turns = [Turn("system", t.kind, int(t.t * 1000), None) for t in call.turns]
            await asyncio.shield(
                asyncio.to_thread(
                    self._interactions.finish, opened.id, result.outcome, result.intent,
                    result.path, turns,
                )
            )
            await link.close()
