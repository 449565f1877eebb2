"""Flow versions, their lifecycle and the DNIS routes that pick a flow for a call.

Lifecycle of a version (``state``):

- ``draft``: stored, not checked. ``validated``: passed the flow checks (the flows layer says so
  through ``set_state``). Only these two can be set directly.
- ``publish(name, v)`` makes v the one ``published`` version (validated, superseded or
  rolled_back versions may be published; a draft may not). The version it replaces becomes
  ``superseded``. Publishing the published version again changes nothing.
- ``rollback(name)`` marks the published version ``rolled_back`` and re-publishes the
  ``superseded`` version published most recently before it. Rolling back repeatedly walks back
  through the publish history; a rolled_back version is never picked again by ``rollback`` (it
  can still be published explicitly).

The database enforces at most one published version per flow (a partial unique index).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.db import Database
from ivr.store.domain import FlowVersion
from ivr.store.errors import Conflict, NotFound
from ivr.store.models import FlowRouteRow, FlowRow, FlowVersionRow, now_utc

SETTABLE_STATES = ("draft", "validated")
PUBLISHABLE_STATES = ("validated", "superseded", "rolled_back")


def _version(row: FlowVersionRow, name: str) -> FlowVersion:
    return FlowVersion(
        id=row.id,
        flow_name=name,
        version=row.version,
        yaml=row.yaml,
        state=row.state,
        created_at=row.created_at,
        created_by=row.created_by,
        published_at=row.published_at,
    )


class FlowRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create_version(
        self, name: str, yaml: str, created_by: str, state: str = "draft"
    ) -> FlowVersion:
        """Store the next version of flow ``name`` (creating the flow on first use)."""
        if state not in SETTABLE_STATES:
            raise ValueError(f"a new version starts as one of {SETTABLE_STATES}, not {state!r}")
        try:
            with self._db.session(write=True) as s:
                flow = self._flow(s, name, create=True)
                last = s.scalar(
                    select(func.max(FlowVersionRow.version)).where(
                        FlowVersionRow.flow_id == flow.id
                    )
                )
                row = FlowVersionRow(
                    flow_id=flow.id,
                    version=(last or 0) + 1,
                    yaml=yaml,
                    state=state,
                    created_at=now_utc(),
                    created_by=created_by,
                )
                s.add(row)
                s.flush()
                return _version(row, name)
        except IntegrityError:
            raise Conflict(f"flow {name!r} changed concurrently; try again") from None

    def get(self, name: str, version: int) -> FlowVersion:
        with self._db.session() as s:
            return _version(self._version_row(s, self._flow(s, name), version), name)

    def versions(self, name: str) -> list[FlowVersion]:
        """Every version of the flow, oldest first (empty if the flow does not exist)."""
        query = (
            select(FlowVersionRow)
            .join(FlowRow)
            .where(FlowRow.name == name)
            .order_by(FlowVersionRow.version)
        )
        with self._db.session() as s:
            return [_version(r, name) for r in s.scalars(query)]

    def names(self) -> list[str]:
        with self._db.session() as s:
            return list(s.scalars(select(FlowRow.name).order_by(FlowRow.name)))

    def published(self, name: str) -> FlowVersion | None:
        with self._db.session() as s:
            flow = s.scalars(select(FlowRow).where(FlowRow.name == name)).one_or_none()
            row = None if flow is None else self._published_row(s, flow.id)
            return None if row is None else _version(row, name)

    def set_state(self, name: str, version: int, state: str) -> FlowVersion:
        """Mark a version draft or validated; use publish/rollback for the rest."""
        if state not in SETTABLE_STATES:
            raise ValueError(f"state can be set to {SETTABLE_STATES}; use publish or rollback")
        with self._db.session(write=True) as s:
            row = self._version_row(s, self._flow(s, name, lock=True), version)
            if row.state == "published":
                raise Conflict(f"flow {name!r} version {version} is published: publish another")
            row.state = state
            s.flush()
            return _version(row, name)

    def publish(self, name: str, version: int) -> FlowVersion:
        with self._db.session(write=True) as s:
            flow = self._flow(s, name, lock=True)
            row = self._version_row(s, flow, version)
            if row.state == "published":
                return _version(row, name)
            if row.state not in PUBLISHABLE_STATES:
                raise Conflict(
                    f"flow {name!r} version {version} is {row.state}: validate it before publishing"
                )
            current = self._published_row(s, flow.id)
            if current is not None:
                current.state = "superseded"
                s.flush()
            row.state = "published"
            row.published_at = now_utc()
            s.flush()
            return _version(row, name)

    def rollback(self, name: str) -> FlowVersion:
        """Withdraw the published version and re-publish the one published before it."""
        with self._db.session(write=True) as s:
            flow = self._flow(s, name, lock=True)
            current = self._published_row(s, flow.id)
            if current is None:
                raise Conflict(f"flow {name!r} has no published version to roll back")
            previous = s.scalars(
                select(FlowVersionRow)
                .where(FlowVersionRow.flow_id == flow.id, FlowVersionRow.state == "superseded")
                .order_by(FlowVersionRow.published_at.desc(), FlowVersionRow.version.desc())
                .limit(1)
            ).one_or_none()
            if previous is None:
                raise Conflict(f"flow {name!r} has no earlier published version to roll back to")
            current.state = "rolled_back"
            s.flush()
            previous.state = "published"
            previous.published_at = now_utc()
            s.flush()
            return _version(previous, name)

    def route(self, dnis: str) -> str | None:
        """The flow answering calls to ``dnis``, or None when no route is set."""
        query = select(FlowRow.name).join(FlowRouteRow).where(FlowRouteRow.dnis == dnis)
        with self._db.session() as s:
            return s.scalars(query).one_or_none()

    def set_route(self, dnis: str, flow: str) -> None:
        """Route ``dnis`` to an existing flow (replacing any earlier route)."""
        with self._db.session(write=True) as s:
            flow_id = self._flow(s, flow).id
            row = s.get(FlowRouteRow, dnis)
            if row is None:
                s.add(FlowRouteRow(dnis=dnis, flow_id=flow_id, updated_at=now_utc()))
            else:
                row.flow_id = flow_id
                row.updated_at = now_utc()

    def delete_route(self, dnis: str) -> bool:
        with self._db.session() as s:
            row = s.get(FlowRouteRow, dnis)
            if row is not None:
                s.delete(row)
            return row is not None

    def routes(self) -> dict[str, str]:
        query = select(FlowRouteRow.dnis, FlowRow.name).join(FlowRow).order_by(FlowRouteRow.dnis)
        with self._db.session() as s:
            return {dnis: name for dnis, name in s.execute(query)}

    @staticmethod
    def _flow(s: Session, name: str, *, create: bool = False, lock: bool = False) -> FlowRow:
        query = select(FlowRow).where(FlowRow.name == name)
        if lock or create:
            # Serialises version numbering and publishing per flow on PostgreSQL.
            query = query.with_for_update()
        flow = s.scalars(query).one_or_none()
        if flow is None:
            if not create:
                raise NotFound(f"no flow {name!r}")
            flow = FlowRow(name=name, created_at=now_utc())
            s.add(flow)
            s.flush()
        return flow

    @staticmethod
    def _version_row(s: Session, flow: FlowRow, version: int) -> FlowVersionRow:
        row = s.scalars(
            select(FlowVersionRow).where(
                FlowVersionRow.flow_id == flow.id, FlowVersionRow.version == version
            )
        ).one_or_none()
        if row is None:
            raise NotFound(f"no version {version} of flow {flow.name!r}")
        return row

    @staticmethod
    def _published_row(s: Session, flow_id: int) -> FlowVersionRow | None:
        return s.scalars(
            select(FlowVersionRow).where(
                FlowVersionRow.flow_id == flow_id, FlowVersionRow.state == "published"
            )
        ).one_or_none()
