"""Runs one call: picks its flow, opens its interaction, runs the flow, always writes the result.

The interaction is written in `finally`, so a caller who hangs up mid-menu still leaves a record
(outcome `abandoned`), and a flow that fails still says goodbye before the line drops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ivr import metrics
from ivr.call.errors import CallError, CallHangup
from ivr.call.media import MediaPath
from ivr.call.session import AgiLink, Call
from ivr.flows.catalog import FlowCatalog
from ivr.flows.engine import FlowEngine, apologise
from ivr.flows.errors import FlowError
from ivr.flows.interaction_log import InteractionLog
from ivr.flows.outage import reach_agent
from ivr.flows.services import Services
from ivr.store.db import Database
from ivr.store.domain import WITHHELD, Turn
from ivr.store.errors import DatabaseUnreachable

log = logging.getLogger(__name__)
OUTAGE = "database-outage"  # the interaction's flow name when no flow could be picked


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
        *, media: MediaPath | None = None, agent: str | None = None, node: str | None = None,
    ) -> None:
        """`agent`: where callers go when the database is unreachable (IVR_AGENT_FALLBACK);
        `node`: this server's name on the calls' rows."""
        self._media = media
        self._agent = agent
        self._interactions = InteractionLog(db, node=node)
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

    async def _pick(self, call: Call) -> Picked:
        """The call's flow; with the database unreachable and no flow held, the outage path."""
        try:
            return await self.pick(call)
        except DatabaseUnreachable as err:
            log.error("call %s: no flow held and the database is unreachable: %s",
                      call.channel, err)
            raise _NoFlow from err

    async def handle(self, link: AgiLink) -> None:
        call = Call(link, media=self._media)
        try:
            picked = await self._pick(call)
        except _NoFlow:
            picked = Picked(OUTAGE, None, self._to_agent)
        opened = await self._interactions.open(call.caller or WITHHELD, picked.name,
                                               picked.version)
        result = FlowResult()
        try:
            if opened.id is not None:
                # On the channel, so the CDR and the agent's screen can find this interaction.
                await call.set_var("IVR_INTERACTION_ID", str(opened.id))
            await picked.run(call, result)
        except DatabaseUnreachable as err:
            log.error("call %s: flow %s needs the database, which is unreachable: %s",
                      call.channel, picked.name, err)
            await self._to_agent(call, result)
        except CallHangup:
            result.outcome = "abandoned" if result.outcome == "failed" else result.outcome
        except (CallError, FlowError) as err:
            log.error("call %s: flow %s failed: %s", call.channel, picked.name, err)
            result.outcome = "failed"
            await apologise(call)
        finally:
            metrics.CALLS.labels(result.outcome).inc()
            turns = [Turn("system", t.kind, int(t.t * 1000), None) for t in call.turns]
            await asyncio.shield(
                self._interactions.close(opened, result.outcome, result.intent, result.path,
                                         turns)
            )
            await link.close()

    async def _to_agent(self, call: Call, result: FlowResult) -> None:
        await reach_agent(call, result, self._agent)


class _NoFlow(Exception):
    """No flow to run: the database is unreachable and none was held."""
