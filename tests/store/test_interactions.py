"""InteractionRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.store.db import Database
from ivr.store.domain import WITHHELD, Turn
from ivr.store.errors import Conflict, NotFound
from ivr.store.repositories import CustomerRepository, InteractionRepository

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def interactions(db: Database) -> InteractionRepository:
    return InteractionRepository(db)


@pytest.fixture
def customer_id(db: Database) -> int:
    return CustomerRepository(db).add("Maria Garcia", ["+15550100200"]).id


def test_start_then_finish_stores_outcome_path_transcript_and_duration(
    interactions: InteractionRepository, customer_id: int
) -> None:
    started = interactions.start(
        "+15550100200", customer_id=customer_id, flow_name="main", flow_version=3, started_at=T0
    )
    assert started.finished is False

    turns = [Turn("system", "How can I help?", 0, "menu"), Turn("caller", "balance", 2500)]
    done = interactions.finish(
        started.id,
        "self_served",
        "balance",
        ["greeting", "menu", "balance"],
        turns,
        ended_at=T0 + timedelta(seconds=42, milliseconds=5),
    )

    assert done.duration_ms == 42005
    assert interactions.get(started.id) == done
    assert done.path == ("greeting", "menu", "balance")
    assert done.transcript == tuple(turns)
    assert (done.flow_name, done.flow_version, done.intent) == ("main", 3, "balance")
    assert done.ended_at == T0 + timedelta(seconds=42, milliseconds=5)


def test_finish_twice_is_conflict_and_keeps_first_result(
    interactions: InteractionRepository,
) -> None:
    started = interactions.start(WITHHELD, started_at=T0)
    interactions.finish(started.id, "abandoned", ended_at=T0 + timedelta(seconds=3))

    with pytest.raises(Conflict):
        interactions.finish(started.id, "self_served", ended_at=T0 + timedelta(seconds=9))

    assert interactions.get(started.id).outcome == "abandoned"


def test_finish_unknown_interaction_raises_not_found(interactions: InteractionRepository) -> None:
    with pytest.raises(NotFound):
        interactions.finish(12345, "failed")


def test_finish_before_start_is_refused(interactions: InteractionRepository) -> None:
    started = interactions.start("+15550100200", started_at=T0)

    with pytest.raises(ValueError, match="before it starts"):
        interactions.finish(started.id, "failed", ended_at=T0 - timedelta(seconds=1))


def test_identify_attaches_customer_to_anonymous_interaction(
    interactions: InteractionRepository, customer_id: int
) -> None:
    started = interactions.start("+15550100200", started_at=T0)

    assert interactions.identify(started.id, customer_id).customer_id == customer_id
    assert [i.id for i in interactions.journey(customer_id)] == [started.id]
    with pytest.raises(NotFound):
        interactions.identify(started.id, 99999)


def test_start_for_unknown_customer_raises_not_found(interactions: InteractionRepository) -> None:
    with pytest.raises(NotFound):
        interactions.start("+15550100200", customer_id=99999)


def test_unknown_channel_is_refused(interactions: InteractionRepository) -> None:
    with pytest.raises(ValueError, match="channel"):
        interactions.start("+15550100200", channel="fax")


def test_record_stores_whole_interaction_from_another_channel(
    interactions: InteractionRepository, customer_id: int
) -> None:
    recorded = interactions.record(
        "+15550100200",
        "sms",
        T0,
        T0 + timedelta(minutes=2),
        "self_served",
        customer_id=customer_id,
        intent="outage",
        transcript=[Turn("caller", "is there an outage?")],
    )

    assert recorded.channel == "sms"
    assert recorded.duration_ms == 120_000
    assert interactions.get(recorded.id) == recorded


def test_journey_is_newest_first_across_channels_and_limited(
    interactions: InteractionRepository, customer_id: int
) -> None:
    for days, channel in [(3, "voice"), (1, "email"), (2, "chat")]:
        start = T0 - timedelta(days=days)
        interactions.record(
            "+15550100200", channel, start, start, "self_served", customer_id=customer_id
        )
    interactions.start("+15550199999", started_at=T0)  # someone else

    journey = interactions.journey(customer_id)
    assert [i.channel for i in journey] == ["email", "chat", "voice"]
    assert [i.channel for i in interactions.journey(customer_id, limit=1)] == ["email"]


def test_recent_for_customer_keeps_interactions_since_the_given_time(
    interactions: InteractionRepository, customer_id: int
) -> None:
    for hours in (1, 5, 30):
        start = T0 - timedelta(hours=hours)
        interactions.record("+15550100200", "voice", start, start, "x", customer_id=customer_id)

    recent = interactions.recent_for_customer(customer_id, since=T0 - timedelta(hours=5))

    assert [i.started_at for i in recent] == [T0 - timedelta(hours=1), T0 - timedelta(hours=5)]


def test_timestamps_in_other_zones_come_back_as_the_same_instant_in_utc(
    interactions: InteractionRepository,
) -> None:
    moscow = T0.astimezone(ZoneInfo("Europe/Moscow"))

    started = interactions.start("+79161234567", started_at=moscow)

    assert interactions.get(started.id).started_at == T0
    assert interactions.get(started.id).started_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused(interactions: InteractionRepository) -> None:
    with pytest.raises(ValueError, match="naive"):
        interactions.start("+15550100200", started_at=datetime(2026, 3, 1, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        interactions.recent_for_customer(1, since=datetime(2026, 3, 1, 9, 0))
