"""Each call's interaction, opened when it starts and closed when it ends, also through a
database outage: what cannot be written waits in a bounded queue and is retried (with backoff)
until the database returns, so the call is recorded late rather than lost. What is still
waiting when the server stops, or falls off a full queue, is logged instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from ivr.store.db import Database
from ivr.store.domain import Turn
from ivr.store.errors import DatabaseUnreachable, StoreError
from ivr.store.models import now_utc
from ivr.store.repositories.interactions import InteractionRepository

log = logging.getLogger(__name__)
MAX_PENDING = 10_000  # interactions held through an outage (a few KiB each)
RETRY_FIRST, RETRY_MAX = 1.0, 10.0  # seconds between attempts, doubling


@dataclass(frozen=True)
class Opened:
    """A call's interaction: `id` is None when the database could not open it."""

    id: int | None
    caller: str
    flow_name: str
    flow_version: int | None
    started_at: datetime


@dataclass(frozen=True)
class _Write:
    run: Callable[[], object]
    what: str  # for the log when it is given up


class InteractionLog:
    def __init__(self, db: Database, *, limit: int = MAX_PENDING,
                 retry: tuple[float, float] = (RETRY_FIRST, RETRY_MAX),
                 node: str | None = None) -> None:
        """`node`: this server's name, kept on each open row (another node closes the rows of
        a node that died; store/repositories/nodes.py)."""
        self._repo = InteractionRepository(db)
        self._node = node
        self._pending: deque[_Write] = deque()
        self._limit = limit
        self._retry = retry
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def open(self, caller: str, flow_name: str, flow_version: int | None) -> Opened:
        started = now_utc()
        if self._pending:  # an outage in progress: the call must not wait on it
            return Opened(None, caller, flow_name, flow_version, started)
        try:
            opened = await asyncio.to_thread(
                self._repo.start, caller, "voice", flow_name=flow_name,
                flow_version=flow_version, started_at=started, node=self._node,
            )  # fmt: skip
        except DatabaseUnreachable as err:
            log.warning("interaction not opened, written when the database returns: %s", err)
            return Opened(None, caller, flow_name, flow_version, started)
        return Opened(opened.id, caller, flow_name, flow_version, started)

    async def close(self, opened: Opened, outcome: str, intent: str | None,
                    path: Sequence[str], turns: Sequence[Turn]) -> None:
        ended = now_utc()
        if opened.id is not None:
            run = partial(self._repo.finish, opened.id, outcome, intent, list(path), list(turns),
                          ended)  # fmt: skip
        else:
            run = partial(
                self._repo.record, opened.caller, "voice", opened.started_at, ended, outcome,
                intent=intent, path=list(path), transcript=list(turns),
                flow_name=opened.flow_name, flow_version=opened.flow_version,
            )  # fmt: skip
        what = (f"interaction {opened.id or '(new)'} of flow {opened.flow_name} started "
                f"{opened.started_at.isoformat()}: {outcome}, path {'>'.join(path)}")
        write = _Write(run, what)
        if not self._pending:  # writes stay in order: none may overtake a waiting one
            try:
                await asyncio.to_thread(run)
                return
            except DatabaseUnreachable as err:
                log.warning("%s not written yet: %s", what, err)
        self._queue(write)

    async def aclose(self) -> None:
        """Stop retrying; what still waits is logged (the server is stopping)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task])
        self._give_up()  # also when the task was cancelled before it ever ran

    def _queue(self, write: _Write) -> None:
        if len(self._pending) >= self._limit:
            lost = self._pending.popleft()
            log.error("database still unreachable, queue full: not recorded: %s", lost.what)
        self._pending.append(write)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="interaction-retry")

    async def _drain(self) -> None:
        delay = self._retry[0]
        try:
            while self._pending:
                await asyncio.sleep(delay)
                delay = await self._write_some(delay)
        except asyncio.CancelledError:
            self._give_up()
            raise

    def _give_up(self) -> None:
        for write in self._pending:
            log.error("server stopping with the database unreachable: not recorded: %s",
                      write.what)
        self._pending.clear()

    async def _write_some(self, delay: float) -> float:
        """Write waiting interactions in order; the next delay (reset once one is written)."""
        while self._pending:
            write = self._pending[0]
            try:
                await asyncio.to_thread(write.run)
            except DatabaseUnreachable:
                return min(delay * 2, self._retry[1])
            except StoreError as err:  # e.g. finished meanwhile: nothing left to do for it
                log.error("%s dropped: %s", write.what, err)
            else:
                log.info("%s written after the outage", write.what)
            self._pending.popleft()
        return self._retry[0]
