"""Campaigns, their contacts (added in one transaction) and the do-not-call list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.store.db import Database
from ivr.store.domain import (
    Campaign,
    CampaignContact,
    CampaignSpec,
    NewContact,
    check_e164,
)
from ivr.store.errors import Conflict, NotFound
from ivr.store.models import (
    CAMPAIGN_STATES,
    CampaignContactRow,
    CampaignRow,
    DncRow,
    now_utc,
)

# Which state changes a user may ask for, from which states.
_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "running": ("draft", "paused", "completed"),
    "paused": ("running",),
    "cancelled": ("draft", "running", "paused", "completed"),
}
OPEN_CONTACT_STATES = ("pending", "dialing")
# The first time a contact may be called, given its campaign and time zone.
FirstCall = Callable[[Campaign, str, datetime], datetime]


def to_campaign(row: CampaignRow) -> Campaign:
    return Campaign(
        id=row.id, name=row.name, kind=row.kind, message=row.message, prompts=tuple(row.prompts),
        state=row.state, pause_reason=row.pause_reason, paused_by=row.paused_by,
        window_start=row.window_start, window_end=row.window_end, holidays=tuple(row.holidays),
        max_attempts=row.max_attempts,
        retry_seconds={str(k): int(v) for k, v in row.retry_seconds.items()},
        daily_cap=row.daily_cap, priority=row.priority, max_channels=row.max_channels,
        calls_per_second=row.calls_per_second, default_time_zone=row.default_time_zone,
        area=row.area, created_at=row.created_at, updated_at=row.updated_at,
    )


def to_contact(row: CampaignContactRow) -> CampaignContact:
    return CampaignContact(
        id=row.id, campaign_id=row.campaign_id, phone=row.phone, name=row.name, email=row.email,
        time_zone=row.time_zone, language=row.language, channel=row.channel,
        variables={str(k): str(v) for k, v in row.variables.items()}, state=row.state,
        result=row.result, attempts=row.attempts, next_at=row.next_at, fallback=row.fallback,
        customer_id=row.customer_id,
    )


def _campaign_row(spec: CampaignSpec, now: datetime) -> CampaignRow:
    return CampaignRow(
        name=spec.name, kind=spec.kind, message=spec.message, prompts=list(spec.prompts),
        state="draft", window_start=spec.window_start, window_end=spec.window_end,
        holidays=list(spec.holidays), max_attempts=spec.max_attempts,
        retry_seconds=dict(spec.retry_seconds), daily_cap=spec.daily_cap,
        priority=spec.priority, max_channels=spec.max_channels,
        calls_per_second=spec.calls_per_second, default_time_zone=spec.default_time_zone,
        area=spec.area, created_at=now, updated_at=now,
    )


class CampaignRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- campaigns ------------------------------------------------------------------------
    def create(self, spec: CampaignSpec) -> Campaign:
        try:
            with self._db.session(write=True) as s:
                row = _campaign_row(spec, now_utc())
                s.add(row)
                s.flush()
                return to_campaign(row)
        except IntegrityError:
            raise Conflict(f"campaign {spec.name!r} already exists") from None

    def ensure(self, spec: CampaignSpec, state: str = "running") -> Campaign:
        """The campaign called spec.name, created (in `state`) if missing: trigger campaigns."""
        with self._db.session(write=True) as s:
            row = s.scalars(select(CampaignRow).where(CampaignRow.name == spec.name)).first()
            if row is None:
                row = _campaign_row(spec, now_utc())
                row.state = state
                s.add(row)
                s.flush()
            return to_campaign(row)

    def get(self, name: str) -> Campaign:
        with self._db.session() as s:
            return to_campaign(self._row(s, name))

    def get_by_id(self, campaign_id: int) -> Campaign:
        with self._db.session() as s:
            row = s.get(CampaignRow, campaign_id)
            if row is None:
                raise NotFound(f"no campaign with id {campaign_id}")
            return to_campaign(row)

    def all(self) -> list[Campaign]:
        with self._db.session() as s:
            return [to_campaign(r) for r in s.scalars(select(CampaignRow).order_by(CampaignRow.id))]

    def set_state(self, name: str, state: str, *, reason: str | None = None) -> Campaign:
        """A user's start/pause/resume/cancel; refuses impossible transitions."""
        if state not in CAMPAIGN_STATES:
            raise ValueError(f"unknown campaign state {state!r}")
        with self._db.session(write=True) as s:
            row = self._row(s, name, lock=True)
            if row.state == state:
                return to_campaign(row)
            if row.state not in _TRANSITIONS.get(state, ()):
                raise Conflict(f"campaign {name!r} is {row.state}: cannot make it {state}")
            row.state, row.updated_at = state, now_utc()
            row.pause_reason = reason if state == "paused" else None
            row.paused_by = "user" if state == "paused" else None
            if state == "cancelled":
                s.execute(
                    update(CampaignContactRow)
                    .where(CampaignContactRow.campaign_id == row.id,
                           CampaignContactRow.state == "pending")
                    .values(state="cancelled", result="cancelled", updated_at=now_utc())
                )
            return to_campaign(row)

    def system_pause(self, reason: str) -> list[str]:
        """Pause every running campaign for a reason the system will lift (AMI down)."""
        return self._flip("running", "paused", reason, "system")

    def system_resume(self) -> list[str]:
        """Resume the campaigns the system paused (not those a user paused)."""
        return self._flip("paused", "running", None, None, only_system=True)

    def _flip(self, old: str, new: str, reason: str | None, by: str | None,
              only_system: bool = False) -> list[str]:
        with self._db.session(write=True) as s:
            query = select(CampaignRow).where(CampaignRow.state == old)
            if only_system:
                query = query.where(CampaignRow.paused_by == "system")
            rows = list(s.scalars(query.with_for_update()))
            for row in rows:
                row.state, row.pause_reason, row.paused_by = new, reason, by
                row.updated_at = now_utc()
            return [r.name for r in rows]

    def set_last_event(self, campaign_id: int, fingerprint: str, message: str) -> None:
        with self._db.session(write=True) as s:
            row = s.get(CampaignRow, campaign_id)
            if row is not None:
                row.last_event, row.message, row.updated_at = fingerprint, message, now_utc()

    def last_event(self, campaign_id: int) -> str | None:
        with self._db.session() as s:
            row = s.get(CampaignRow, campaign_id)
            return None if row is None else row.last_event

    @staticmethod
    def _row(s: Session, name: str, lock: bool = False) -> CampaignRow:
        query = select(CampaignRow).where(CampaignRow.name == name)
        row = s.scalars(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFound(f"no campaign named {name!r}")
        return row

    # -- contacts -------------------------------------------------------------------------
    def add_contacts(
        self, campaign_id: int, contacts: Sequence[NewContact], first_call: FirstCall,
        now: datetime | None = None,
    ) -> tuple[int, list[int]]:
        """Insert contacts in ONE transaction. Returns (inserted, indexes of duplicates): a
        contact whose dedupe key the campaign already has is skipped, not an error."""
        now = now or now_utc()
        with self._db.session(write=True) as s:
            camp_row = s.get(CampaignRow, campaign_id)
            if camp_row is None:
                raise NotFound(f"no campaign with id {campaign_id}")
            campaign = to_campaign(camp_row)
            keys = [c.dedupe_key or c.phone for c in contacts]
            known = _existing_keys(s, campaign_id, keys)
            duplicates: list[int] = []
            rows: list[dict[str, Any]] = []
            for index, (contact, key) in enumerate(zip(contacts, keys, strict=True)):
                if key in known:
                    duplicates.append(index)
                    continue
                known.add(key)
                rows.append(_contact_values(campaign_id, contact, key,
                                            first_call(campaign, contact.time_zone, now), now))
            if rows:
                s.execute(insert(CampaignContactRow), rows)
                if camp_row.state == "completed":
                    camp_row.state = "running"  # a standing trigger campaign gets new work
            return len(rows), duplicates

    def contacts(self, campaign_id: int, *, limit: int = 1000, offset: int = 0,
                 ) -> list[CampaignContact]:
        with self._db.session() as s:
            query = (select(CampaignContactRow)
                     .where(CampaignContactRow.campaign_id == campaign_id)
                     .order_by(CampaignContactRow.id).limit(limit).offset(offset))
            return [to_contact(r) for r in s.scalars(query)]

    def cancel_open(self, campaign_id: int, result: str = "superseded") -> int:
        """Cancel contacts not yet called (an outage update replaces the older notice)."""
        with self._db.session(write=True) as s:
            done = s.execute(
                update(CampaignContactRow)
                .where(CampaignContactRow.campaign_id == campaign_id,
                       CampaignContactRow.state == "pending")
                .values(state="cancelled", result=result, updated_at=now_utc())
            )
            return int(getattr(done, "rowcount", 0) or 0)

    def progress(self, campaign_id: int) -> dict[str, int]:
        """Contacts per state (live progress)."""
        with self._db.session() as s:
            rows = s.execute(
                select(CampaignContactRow.state, func.count())
                .where(CampaignContactRow.campaign_id == campaign_id)
                .group_by(CampaignContactRow.state)
            ).all()
        counts = {state: 0 for state in ("pending", "dialing", "done", "failed", "cancelled")}
        counts.update({str(state): int(n) for state, n in rows})
        return counts

    # -- do-not-call ----------------------------------------------------------------------
    def add_dnc(self, phone: str, source: str) -> None:
        check_e164(phone)
        with self._db.session(write=True) as s:
            if s.get(DncRow, phone) is None:
                s.add(DncRow(phone=phone, source=source[:64], added_at=now_utc()))

    def is_dnc(self, phone: str) -> bool:
        with self._db.session() as s:
            return s.get(DncRow, phone) is not None


def _existing_keys(s: Session, campaign_id: int, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(s.scalars(
            select(CampaignContactRow.dedupe_key).where(
                CampaignContactRow.campaign_id == campaign_id,
                CampaignContactRow.dedupe_key.in_(chunk))))
    return found


def _contact_values(campaign_id: int, c: NewContact, key: str, first: datetime, now: datetime,
                    ) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id, "dedupe_key": key[:200], "customer_id": c.customer_id,
        "phone": c.phone, "email": c.email, "name": c.name[:200], "time_zone": c.time_zone,
        "language": c.language, "channel": c.channel, "variables": dict(c.variables),
        "state": "pending", "result": None, "attempts": 0, "next_at": first,
        "lease_owner": None, "lease_until": None, "fallback": None, "updated_at": now,
    }
