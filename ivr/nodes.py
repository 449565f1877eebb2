"""This `ivr serve` as one node of several on one database: its name, its heartbeat, and the
sweep that records a dead node's calls in flight as ended (store/repositories/nodes.py says
why and how). Every node sweeps: whichever survives notices first.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.errors import StoreError
from ivr.store.models import now_utc
from ivr.store.repositories.nodes import LostNode, NodeRepository

log = logging.getLogger(__name__)


def node_name(settings: Settings) -> str:
    """IVR_DIALER_NAME, else host name plus pid: two nodes on one machine never share one."""
    return settings.dialer_name or f"{socket.gethostname()[:40]}-{os.getpid()}"


class NodeWatch:
    def __init__(self, db: Database, name: str, *, heartbeat: float, dead_after: float) -> None:
        self.name = name
        self._repo = NodeRepository(db)
        self._heartbeat, self._dead_after = heartbeat, dead_after
        self._task: asyncio.Task[None] | None = None
        self._started = now_utc()

    async def start(self) -> None:
        """Join (closing what a previous run under this name left open), then beat and sweep
        in the background. Call before taking calls, so each call's row has a live node."""
        self._started = now_utc()  # this run's identity in the node's row (see `tick`)
        lost = await asyncio.to_thread(self._repo.join, self.name, self._started)
        if lost is not None and lost.closed:
            _log_lost(lost, "this node's previous run")
        self._task = asyncio.create_task(self._run(), name="node-heartbeat")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            try:
                await self.tick()
            except StoreError as err:  # the database is down: calls go on, beat again later
                log.warning("node %s: heartbeat not written: %s", self.name, err)

    async def tick(self) -> None:
        beat = await asyncio.to_thread(self._repo.beat, self.name, self._started, now_utc())
        if beat == "swept":
            log.error("node %s was taken for dead (no heartbeat for %.0f s): its calls in "
                      "flight were recorded as lost; their real results replace that as they "
                      "end", self.name, self._dead_after)
        elif beat == "taken":
            # Two live processes under one name close each other's calls and share dialer
            # leases: say so on every beat until one of them is renamed.
            log.error("node name %s is in use by another `ivr serve` started after this one: "
                      "give each node its own IVR_DIALER_NAME", self.name)
        for lost in await asyncio.to_thread(self._repo.sweep, now_utc(), self._dead_after):
            if lost.closed:
                _log_lost(lost, f"node {lost.name}")
            else:  # stopped cleanly (or idle when it died): nothing was left open
                log.info("node %s gone (last heartbeat %s), no call left open", lost.name,
                         lost.seen_at.isoformat(timespec="seconds"))


def _log_lost(lost: LostNode, whose: str) -> None:
    log.warning("%s stopped (last heartbeat %s): %d call(s) in flight recorded as ended "
                "(failed, node_lost)", whose, lost.seen_at.isoformat(timespec="seconds"),
                lost.closed)
