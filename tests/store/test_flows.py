"""FlowRepository: versions, publish/rollback lifecycle and DNIS routes, on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ivr.store.db import Database
from ivr.store.errors import Conflict, NotFound
from ivr.store.models import FlowVersionRow
from ivr.store.repositories import FlowRepository


@pytest.fixture
def flows(db: Database) -> FlowRepository:
    return FlowRepository(db)


def _validated(flows: FlowRepository, name: str, count: int) -> list[int]:
    return [
        flows.create_version(name, f"version: {i}\n", "alice", state="validated").version
        for i in range(count)
    ]


def _states(flows: FlowRepository, name: str) -> dict[int, str]:
    return {v.version: v.state for v in flows.versions(name)}


def test_create_version_numbers_versions_per_flow(flows: FlowRepository) -> None:
    first = flows.create_version("main", "start: a\n", "alice")
    second = flows.create_version("main", "start: b\n", "bob")
    other = flows.create_version("billing", "start: x\n", "alice")

    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert first.state == "draft"
    assert flows.get("main", 2) == second
    assert second.yaml == "start: b\n"
    assert second.created_by == "bob"
    assert second.created_at.tzinfo is not None
    assert [v.version for v in flows.versions("main")] == [1, 2]
    assert flows.names() == ["billing", "main"]


def test_versions_of_unknown_flow_is_empty_and_get_raises(flows: FlowRepository) -> None:
    assert flows.versions("nope") == []
    assert flows.published("nope") is None
    with pytest.raises(NotFound):
        flows.get("nope", 1)


def test_new_version_cannot_start_published(flows: FlowRepository) -> None:
    with pytest.raises(ValueError):
        flows.create_version("main", "x", "alice", state="published")


def test_publish_makes_version_published_and_supersedes_previous(
    flows: FlowRepository,
) -> None:
    _validated(flows, "main", 2)

    first = flows.publish("main", 1)
    assert first.state == "published"
    assert first.published_at is not None
    second = flows.publish("main", 2)

    assert flows.published("main") == second
    assert _states(flows, "main") == {1: "superseded", 2: "published"}


def test_publishing_the_published_version_changes_nothing(flows: FlowRepository) -> None:
    _validated(flows, "main", 1)
    first = flows.publish("main", 1)

    assert flows.publish("main", 1) == first


def test_publishing_a_draft_is_conflict(flows: FlowRepository) -> None:
    flows.create_version("main", "x", "alice")

    with pytest.raises(Conflict, match="validate it"):
        flows.publish("main", 1)
    assert flows.published("main") is None


def test_publish_unknown_version_raises_not_found(flows: FlowRepository) -> None:
    _validated(flows, "main", 1)
    with pytest.raises(NotFound):
        flows.publish("main", 7)
    with pytest.raises(NotFound):
        flows.publish("other", 1)


def test_set_state_validates_a_draft_and_refuses_published_target(
    flows: FlowRepository,
) -> None:
    flows.create_version("main", "x", "alice")

    assert flows.set_state("main", 1, "validated").state == "validated"
    with pytest.raises(ValueError):
        flows.set_state("main", 1, "published")
    flows.publish("main", 1)
    with pytest.raises(Conflict):
        flows.set_state("main", 1, "draft")


def test_rollback_republishes_previous_and_marks_current_rolled_back(
    flows: FlowRepository,
) -> None:
    _validated(flows, "main", 3)
    for version in (1, 2, 3):
        flows.publish("main", version)

    back = flows.rollback("main")

    assert back.version == 2
    assert flows.published("main") == back
    assert _states(flows, "main") == {1: "superseded", 2: "published", 3: "rolled_back"}
    assert flows.rollback("main").version == 1
    assert _states(flows, "main") == {1: "published", 2: "rolled_back", 3: "rolled_back"}


def test_rollback_without_earlier_publish_is_conflict(flows: FlowRepository) -> None:
    _validated(flows, "main", 2)
    with pytest.raises(Conflict, match="no published version"):
        flows.rollback("main")
    flows.publish("main", 1)

    with pytest.raises(Conflict, match="no earlier published version"):
        flows.rollback("main")
    assert flows.published("main") is not None


def test_rolled_back_version_can_be_published_again_explicitly(flows: FlowRepository) -> None:
    _validated(flows, "main", 2)
    flows.publish("main", 1)
    flows.publish("main", 2)
    flows.rollback("main")

    assert flows.publish("main", 2).state == "published"
    assert _states(flows, "main") == {1: "superseded", 2: "published"}


def test_publishing_one_flow_leaves_other_flows_alone(flows: FlowRepository) -> None:
    _validated(flows, "main", 1)
    _validated(flows, "billing", 1)
    flows.publish("main", 1)
    flows.publish("billing", 1)

    assert flows.published("main") is not None
    assert flows.published("billing") is not None


def test_route_maps_dnis_to_flow_and_can_be_replaced_and_deleted(
    flows: FlowRepository,
) -> None:
    flows.create_version("main", "x", "alice")
    flows.create_version("billing", "x", "alice")
    assert flows.route("5551000") is None

    flows.set_route("5551000", "main")
    flows.set_route("5552000", "main")
    assert flows.route("5551000") == "main"
    flows.set_route("5551000", "billing")

    assert flows.routes() == {"5551000": "billing", "5552000": "main"}
    assert flows.delete_route("5552000") is True
    assert flows.delete_route("5552000") is False
    assert flows.route("5552000") is None


def test_route_to_unknown_flow_raises_not_found(flows: FlowRepository) -> None:
    with pytest.raises(NotFound):
        flows.set_route("5551000", "nope")


def test_database_refuses_two_published_versions_of_one_flow(
    db: Database, flows: FlowRepository
) -> None:
    _validated(flows, "main", 2)
    flows.publish("main", 1)

    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(
            update(FlowVersionRow).where(FlowVersionRow.version == 2).values(state="published")
        )

    assert _states(flows, "main") == {1: "published", 2: "validated"}
