"""FlowCatalog: which published flow version answers a call, straight from the database.

Every call asks the database for the flow's published version number (one small query), so a
publish or rollback applies to the next call without a restart. Versions never change once
stored, so each is parsed and checked once and kept. DNIS routes are cached for `route_ttl`
seconds (at most 1 s by default).

When the database cannot be reached, calls are answered from the last published versions and
routes seen (all of them are read on the first call, so an outage soon after a start is
covered too); with nothing held, DatabaseUnreachable goes up to the runner.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from ivr.flows.compiled import CompiledFlow
from ivr.flows.errors import FlowNotFound
from ivr.flows.validate import compile_flow
from ivr.store.db import Database
from ivr.store.domain import FlowVersion
from ivr.store.errors import DatabaseUnreachable
from ivr.store.repositories.flows import FlowRepository

log = logging.getLogger(__name__)
DOWN_PAUSE = 5.0  # seconds calls answer from memory without asking a database that failed


class FlowCatalog:
    def __init__(
        self,
        db: Database,
        *,
        default_flow: str | None = None,
        route_ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = FlowRepository(db)
        self._default = default_flow
        self._ttl = route_ttl
        self._clock = clock
        self._routes: dict[str, tuple[float, str | None]] = {}
        self._compiled: dict[tuple[str, int], CompiledFlow] = {}
        self._published: dict[str, CompiledFlow] = {}  # last seen, for a database outage
        self._warm = False
        # After a failed read, calls use what is held for a while without asking again: a
        # database that hangs (rather than refuses) costs each ask the connect timeout.
        self._down_until = float("-inf")

    async def for_dnis(self, dnis: str | None) -> CompiledFlow | None:
        """The published flow for a dialled number (or the default flow); None if neither."""
        await self._warm_up()
        name = await self._route(dnis) if dnis else None
        name = name or self._default
        if name is None:
            return None
        try:
            return await self.flow(name)
        except FlowNotFound:
            return None

    async def flow(self, name: str) -> CompiledFlow:
        """The currently published version of `name` (FlowSource for goto)."""
        await self._warm_up()
        held = self._published.get(name)
        if held is not None and self._clock() < self._down_until:
            return held
        try:
            version = await asyncio.to_thread(self._repo.published, name)
        except DatabaseUnreachable:
            self._down_until = self._clock() + DOWN_PAUSE
            if held is None:
                raise
            log.warning("database unreachable: flow %s answers from memory (v%s)",
                        name, held.version)
            return held
        if version is None:
            self._published.pop(name, None)
            raise FlowNotFound(f"flow {name!r} has no published version")
        found = self.compiled(version)
        self._published[name] = found
        return found

    async def _warm_up(self) -> None:
        """Once: every route and published flow, so an outage finds them held."""
        if self._warm or self._clock() < self._down_until:
            return
        self._warm = True
        try:
            routes, held = await asyncio.to_thread(self._read_all)
        except DatabaseUnreachable as err:
            self._warm = False
            self._down_until = self._clock() + DOWN_PAUSE
            log.warning("flows not preloaded: %s", err)
            return
        expires = self._clock() + self._ttl
        self._routes.update({dnis: (expires, name) for dnis, name in routes.items()})
        for version in held:
            self._published[version.flow_name] = self.compiled(version)

    def _read_all(self) -> tuple[dict[str, str], list[FlowVersion]]:
        held = [self._repo.published(name) for name in self._repo.names()]
        return self._repo.routes(), [v for v in held if v is not None]

    def compiled(self, version: FlowVersion) -> CompiledFlow:
        key = (version.flow_name, version.version)
        found = self._compiled.get(key)
        if found is None:
            found = compile_flow(
                version.yaml, f"{version.flow_name}@v{version.version}", version=version.version
            )
            self._compiled[key] = found
        return found

    async def _route(self, dnis: str) -> str | None:
        now = self._clock()
        cached = self._routes.get(dnis)
        if cached is not None and (cached[0] > now or now < self._down_until):
            return cached[1]
        try:
            name = await asyncio.to_thread(self._repo.route, dnis)
        except DatabaseUnreachable:
            self._down_until = self._clock() + DOWN_PAUSE
            if cached is None:
                raise
            return cached[1]  # stale, but the last answer the database gave
        self._routes[dnis] = (now + self._ttl, name)
        return name


class PinnedFlows:
    """A FlowSource over fixed compiled flows (files, tests, simulation)."""

    def __init__(self, flows: dict[str, CompiledFlow]) -> None:
        self._flows = dict(flows)

    async def flow(self, name: str) -> CompiledFlow:
        found = self._flows.get(name)
        if found is None:
            raise FlowNotFound(f"no flow {name!r}")
        return found
