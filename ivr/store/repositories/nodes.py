"""Nodes: the `ivr serve` processes sharing this database, their heartbeats, and the calls a
dead node leaves open.

A call's row is opened by the node that takes it (`interactions.node`) and closed by that node
when the call ends. A node killed outright (SIGKILL, power, OOM) closes nothing, so without
help its calls in flight would stay open forever and count as live in every report. Each node
therefore beats (`nodes.seen_at`) and sweeps: a node not seen for `dead_after` seconds is
removed and its open calls are closed as `failed` with `end_reason` `node_lost`, ended at its
last heartbeat (the last moment the call is known to have been alive). A node that restarts
under the same name closes its previous run's calls at once (`join`).

Why `failed`: the call ended because our side went away, not because the caller chose to
(`abandoned`); reports already count `failed` as not contained. The clocks are the nodes' own,
as the dialer's leases are: keep them in sync (NTP); `dead_after` is far above any skew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.db import Database
from ivr.store.domain import Turn, check_aware
from ivr.store.models import InteractionRow, NodeRow

NODE_LOST = "node_lost"
LOST_OUTCOME = "failed"
Beat = Literal["alive", "swept", "taken"]


@dataclass(frozen=True, slots=True)
class LostNode:
    """A node found dead (or our own previous run) and how many of its calls were closed."""

    name: str
    seen_at: datetime
    closed: int


class NodeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def join(self, name: str, now: datetime) -> LostNode | None:
        """Start beating as `name`. Calls still open under this name belong to a previous run
        that died (names are unique per running node): they are closed now, not after
        `dead_after`, and returned."""
        check_aware(now, "now")
        with self._db.session(write=True) as s:
            row = s.get(NodeRow, name, with_for_update=True)
            lost = None
            if row is not None:
                lost = LostNode(name, row.seen_at, _close_open_calls(s, name, row.seen_at))
                row.started_at, row.seen_at = now, now
            else:
                s.add(NodeRow(name=name, started_at=now, seen_at=now))
            return lost

    def beat(self, name: str, run: datetime, now: datetime) -> Beat:
        """Record that `name`, started at `run` (what `join` was given), is alive. `swept`:
        another node took it for dead and closed its calls (its row is written again);
        `taken`: another process joined under the same name since (a configuration error)."""
        check_aware(now, "now")
        with self._db.session() as s:
            done = s.execute(update(NodeRow)
                             .where(NodeRow.name == name, NodeRow.started_at == run)
                             .values(seen_at=now))
            if getattr(done, "rowcount", 0):
                return "alive"
            if s.get(NodeRow, name) is not None:
                return "taken"
        try:
            with self._db.session() as s:
                s.add(NodeRow(name=name, started_at=run, seen_at=now))
        except IntegrityError:  # another process of this name wrote it meanwhile
            return "taken"
        return "swept"

    def sweep(self, now: datetime, dead_after: float) -> list[LostNode]:
        """Remove the nodes not seen for `dead_after` seconds and close their open calls."""
        check_aware(now, "now")
        limit = now - timedelta(seconds=dead_after)
        query = select(NodeRow).where(NodeRow.seen_at < limit).order_by(NodeRow.name)
        if self._db.dialect == "postgresql":  # two sweepers never close the same node twice
            query = query.with_for_update(skip_locked=True)
        lost = []
        with self._db.session(write=True) as s:
            for row in s.scalars(query).all():
                lost.append(LostNode(row.name, row.seen_at,
                                     _close_open_calls(s, row.name, row.seen_at)))
                s.execute(delete(NodeRow).where(NodeRow.name == row.name))
        return lost

    def names(self) -> list[str]:
        with self._db.session() as s:
            return list(s.scalars(select(NodeRow.name).order_by(NodeRow.name)))


def _close_open_calls(s: Session, node: str, seen_at: datetime) -> int:
    query = (select(InteractionRow)
             .where(InteractionRow.node == node, InteractionRow.ended_at.is_(None))
             .with_for_update())
    rows = s.scalars(query).all()
    for row in rows:
        ended = max(row.started_at, seen_at)
        ms = int((ended - row.started_at).total_seconds() * 1000)
        reason = Turn("system", f"call lost: node {node} stopped (last heartbeat "
                      f"{seen_at.isoformat(timespec='seconds')})", ms)
        row.ended_at, row.duration_ms = ended, ms
        row.outcome, row.end_reason = LOST_OUTCOME, NODE_LOST
        row.transcript = [*row.transcript, reason.to_json()]
    return len(rows)
