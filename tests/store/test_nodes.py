"""NodeRepository on SQLite and PostgreSQL: heartbeats, and the calls of a dead node (or of this
node's previous run) recorded as ended, failed with end_reason node_lost, at its last beat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.store.db import Database
from ivr.store.repositories import InteractionRepository
from ivr.store.repositories.nodes import NODE_LOST, NodeRepository

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_a_dead_nodes_open_calls_are_closed_at_its_last_heartbeat(db: Database) -> None:
    nodes, calls = NodeRepository(db), InteractionRepository(db)
    nodes.join("a", T0)
    nodes.join("b", T0)
    open_a = calls.start("+15550100200", started_at=T0 + S, node="a")
    done_a = calls.start("+15550100201", started_at=T0 + S, node="a")
    calls.finish(done_a.id, "self_served", ended_at=T0 + 2 * S)
    open_b = calls.start("+15550100202", started_at=T0 + S, node="b")
    other = calls.start("+15550100203", started_at=T0 + S)  # no node: not ours to close
    nodes.beat("a", T0, T0 + 5 * S)
    nodes.beat("b", T0, T0 + 40 * S)

    assert nodes.sweep(T0 + 30 * S, dead_after=30) == []  # a was seen 25 s ago
    [lost] = nodes.sweep(T0 + 40 * S, dead_after=30)

    assert (lost.name, lost.seen_at, lost.closed) == ("a", T0 + 5 * S, 1)
    closed = calls.get(open_a.id)
    assert (closed.outcome, closed.end_reason, closed.ended_at) == ("failed", NODE_LOST, T0 + 5 * S)
    assert closed.duration_ms == 4000
    assert "node a" in closed.transcript[-1].text
    assert calls.get(done_a.id).outcome == "self_served"
    assert calls.get(open_b.id).ended_at is None
    assert calls.get(other.id).ended_at is None
    assert nodes.names() == ["b"]
    assert nodes.sweep(T0 + 41 * S, dead_after=30) == []  # closed once


def test_a_restart_under_the_same_name_closes_the_previous_runs_calls_at_once(
    db: Database,
) -> None:
    nodes, calls = NodeRepository(db), InteractionRepository(db)
    assert nodes.join("a", T0) is None
    left = calls.start("+15550100200", started_at=T0 + S, node="a")
    nodes.beat("a", T0, T0 + 3 * S)

    lost = nodes.join("a", T0 + 10 * S)

    assert lost is not None and (lost.seen_at, lost.closed) == (T0 + 3 * S, 1)
    assert calls.get(left.id).end_reason == NODE_LOST
    assert calls.get(left.id).ended_at == T0 + 3 * S
    assert nodes.sweep(T0 + 20 * S, dead_after=30) == []  # the new run beat at T0 + 10 s


def test_a_node_taken_for_dead_learns_it_and_its_calls_real_results_win(db: Database) -> None:
    nodes, calls = NodeRepository(db), InteractionRepository(db)
    nodes.join("a", T0)
    slow = calls.start("+15550100200", started_at=T0, node="a")
    nodes.sweep(T0 + 60 * S, dead_after=30)  # a stalled, but was alive all along

    assert nodes.beat("a", T0, T0 + 61 * S) == "swept"
    assert nodes.beat("a", T0, T0 + 62 * S) == "alive"
    done = calls.finish(slow.id, "self_served", "billing", ended_at=T0 + 63 * S)
    assert (done.outcome, done.end_reason, done.duration_ms) == ("self_served", None, 63000)


def test_a_second_process_under_a_live_nodes_name_is_reported_to_the_first(db: Database) -> None:
    nodes = NodeRepository(db)
    nodes.join("a", T0)
    nodes.join("a", T0 + 2 * S)  # the same IVR_DIALER_NAME on another host

    assert nodes.beat("a", T0, T0 + 3 * S) == "taken"
    assert nodes.beat("a", T0 + 2 * S, T0 + 3 * S) == "alive"
