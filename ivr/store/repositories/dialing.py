"""The dialer's side of the contact state machine: claims with leases, attempts, settling.

pending --claim--> dialing (lease; attempt row committed as 'originating' BEFORE the Originate)
dialing --settle--> pending (retry at next_at) | done | failed | cancelled
A dialing contact whose lease ran out (its dialer died) is taken over by `take_over`, and its
open attempt is reconciled against Asterisk, never dialled again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ivr.store.db import Database
from ivr.store.domain import CallAttempt, Campaign, CampaignContact, DialClaim
from ivr.store.models import (
    CallAttemptRow,
    CampaignContactRow,
    CampaignRow,
    DncRow,
    now_utc,
)
from ivr.store.repositories.campaigns import to_campaign, to_contact

# When a contact may be called (now or later), given its campaign; from the scheduler.
WindowPolicy = Callable[[Campaign, CampaignContact, datetime], datetime]
DAY = timedelta(hours=24)
# (campaign, contact, outcome, amd, response) -> (state, result, next_at); from campaigns.model.
Decider = Callable[[Campaign, CampaignContact, str, str | None, str | None],
                   tuple[str, str | None, datetime]]


def to_attempt(row: CallAttemptRow) -> CallAttempt:
    return CallAttempt(
        id=row.id, campaign_id=row.campaign_id, contact_id=row.contact_id,
        attempt_no=row.attempt_no, phone=row.phone, channel_id=row.channel_id, dialer=row.dialer,
        state=row.state, outcome=row.outcome, amd=row.amd, response=row.response,
        started_at=row.started_at, answered_at=row.answered_at, ended_at=row.ended_at,
    )


class DialingRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _lock(self, query: Select[CampaignContactRow]
              ) -> Select[CampaignContactRow]:
        # PostgreSQL: rows another dialer holds are skipped, not waited for. SQLite has no row
        # locks; the write session's BEGIN IMMEDIATE serialises claims instead.
        if self._db.dialect == "postgresql":
            return query.with_for_update(skip_locked=True)
        return query

    def claim(self, owner: str, now: datetime, limit: int, lease_s: float,
              policy: WindowPolicy) -> list[DialClaim]:
        """Up to `limit` due contacts of running campaigns, each now 'dialing' under our lease."""
        claims: list[DialClaim] = []
        with self._db.session(write=True) as s:
            campaigns = list(s.scalars(
                select(CampaignRow).where(CampaignRow.state == "running")
                .order_by(CampaignRow.priority.desc(), CampaignRow.id)))
            busy = _dialing_counts(s, [c.id for c in campaigns])
            for camp_row in campaigns:
                room = min(limit - len(claims), camp_row.max_channels - busy.get(camp_row.id, 0))
                if room <= 0:
                    continue
                campaign = to_campaign(camp_row)
                rows = list(s.scalars(self._lock(
                    select(CampaignContactRow)
                    .where(CampaignContactRow.campaign_id == camp_row.id,
                           CampaignContactRow.state == "pending",
                           CampaignContactRow.next_at <= now)
                    .order_by(CampaignContactRow.next_at, CampaignContactRow.id)
                    .limit(room))))
                for row in rows:
                    claim = _try_claim(s, row, campaign, owner, now, lease_s, policy)
                    if claim is not None:
                        claims.append(claim)
                if not rows:
                    _complete_if_done(s, camp_row, now)
        return claims

    def take_over(self, owner: str, now: datetime, lease_s: float, limit: int = 100,
                  after_id: int = 0) -> list[DialClaim]:
        """Dialing contacts that are ours (we restarted) or whose lease expired (their dialer
        died), with their open attempt, re-leased to us for reconciliation."""
        with self._db.session(write=True) as s:
            rows = list(s.scalars(self._lock(
                select(CampaignContactRow)
                .where(CampaignContactRow.state == "dialing", CampaignContactRow.id > after_id,
                       or_(CampaignContactRow.lease_owner == owner,
                           CampaignContactRow.lease_until < now))
                .order_by(CampaignContactRow.id).limit(limit))))
            out = []
            for row in rows:
                row.lease_owner, row.lease_until = owner, now + timedelta(seconds=lease_s)
                attempt = s.scalars(
                    select(CallAttemptRow).where(CallAttemptRow.contact_id == row.id)
                    .order_by(CallAttemptRow.attempt_no.desc()).limit(1)).first()
                open_attempt = attempt if attempt and attempt.state != "ended" else None
                camp = s.get(CampaignRow, row.campaign_id)
                assert camp is not None
                out.append(DialClaim(to_contact(row),
                                     to_attempt(open_attempt) if open_attempt else None,
                                     to_campaign(camp)))
            return out

    def renew(self, owner: str, contact_ids: list[int], until: datetime) -> None:
        if not contact_ids:
            return
        with self._db.session(write=True) as s:
            for row in s.scalars(select(CampaignContactRow).where(
                    CampaignContactRow.id.in_(contact_ids),
                    CampaignContactRow.lease_owner == owner)):
                row.lease_until = until

    def attempt(self, attempt_id: int) -> CallAttempt:
        with self._db.session() as s:
            row = s.get(CallAttemptRow, attempt_id)
            assert row is not None, f"attempt {attempt_id} vanished"
            return to_attempt(row)

    def mark_answered(self, attempt_id: int, now: datetime) -> None:
        with self._db.session(write=True) as s:
            row = s.get(CallAttemptRow, attempt_id, with_for_update=True)
            if row is not None and row.state == "originating":
                row.state, row.answered_at = "answered", row.answered_at or now

    def record_flow(self, channel_id: str, *, amd: str | None = None,
                    response: str | None = None) -> CallAttempt | None:
        """What the notification flow learned on the answered leg (AMD result, key pressed)."""
        with self._db.session(write=True) as s:
            row = s.scalars(select(CallAttemptRow).where(
                CallAttemptRow.channel_id == channel_id).with_for_update()).first()
            if row is None:
                return None
            if amd is not None:
                row.amd = amd
            if response is not None:
                row.response = response
            if row.answered_at is None:
                row.answered_at = now_utc()
            if row.state == "originating":
                row.state = "answered"
            return to_attempt(row)

    def settle(self, contact_id: int, owner: str, *, attempt_id: int | None, outcome: str | None,
               hangup_cause: int | None, state: str, result: str | None, next_at: datetime,
               now: datetime, refund: bool = False, fallback: str | None = None) -> bool:
        """End the attempt and move the contact on; False if we no longer hold its lease.
        `refund`: the Originate was never sent, so the attempt does not count."""
        with self._db.session(write=True) as s:
            row = s.get(CampaignContactRow, contact_id, with_for_update=True)
            if row is None or row.state != "dialing" or row.lease_owner != owner:
                return False
            att = s.get(CallAttemptRow, attempt_id) if attempt_id is not None else None
            if att is not None and refund:
                # Provably never sent (the link was down before the write): the attempt did
                # not happen, so its row and its number go back.
                s.delete(att)
                row.attempts -= 1
            elif att is not None and att.state != "ended":
                att.state, att.outcome, att.ended_at = "ended", outcome, now
                att.hangup_cause = hangup_cause
            row.state, row.result, row.next_at = state, result, next_at
            if fallback is not None:
                row.fallback = fallback
            row.lease_owner = row.lease_until = None
            row.updated_at = now
            return True

    def for_channel(self, channel_id: str,
                    ) -> tuple[Campaign, CampaignContact, CallAttempt] | None:
        """The campaign, contact and attempt behind an originated channel (the notify flow)."""
        with self._db.session() as s:
            att = s.scalars(select(CallAttemptRow).where(
                CallAttemptRow.channel_id == channel_id)).first()
            if att is None:
                return None
            contact = s.get(CampaignContactRow, att.contact_id)
            camp = s.get(CampaignRow, att.campaign_id)
            assert contact is not None and camp is not None
            return to_campaign(camp), to_contact(contact), to_attempt(att)

    def settle_decided(self, contact_id: int, owner: str, attempt_id: int, outcome: str,
                       hangup_cause: int | None, now: datetime, decide: Decider) -> str | None:
        """Settle an attempt in one transaction, `decide` choosing the contact's next state from
        what the attempt row says (AMD, key pressed). Returns that state, None if not ours."""
        with self._db.session(write=True) as s:
            row = s.get(CampaignContactRow, contact_id, with_for_update=True)
            att = s.get(CallAttemptRow, attempt_id)
            camp = s.get(CampaignRow, row.campaign_id) if row is not None else None
            if row is None or att is None or camp is None:
                return None
            if row.state != "dialing" or row.lease_owner != owner:
                return None
            state, result, next_at = decide(to_campaign(camp), to_contact(row), outcome,
                                            att.amd, att.response)
            if att.state != "ended":
                att.state, att.ended_at, att.hangup_cause = "ended", now, hangup_cause
                att.outcome = "answered" if att.amd is not None else outcome
            row.state, row.result, row.next_at = state, result, next_at
            if state == "failed":
                row.fallback = "pending"  # sent next; found again after a crash (see below)
            row.lease_owner = row.lease_until = None
            row.updated_at = now
            return state

    def pending_fallbacks(self, older_than: datetime, limit: int = 100,
                          ) -> list[tuple[CampaignContact, Campaign]]:
        """Failed contacts whose fallback notice was due before `older_than` and never sent
        (their dialer died in between): sent again by the reconciler, at least once."""
        with self._db.session() as s:
            rows = s.execute(
                select(CampaignContactRow, CampaignRow)
                .join(CampaignRow, CampaignRow.id == CampaignContactRow.campaign_id)
                .where(CampaignContactRow.fallback == "pending",
                       CampaignContactRow.updated_at < older_than)
                .order_by(CampaignContactRow.id).limit(limit)).all()
            return [(to_contact(c), to_campaign(k)) for c, k in rows]

    def set_fallback(self, contact_id: int, fallback: str) -> None:
        with self._db.session(write=True) as s:
            row = s.get(CampaignContactRow, contact_id)
            if row is not None:
                row.fallback, row.updated_at = fallback, now_utc()

    def open_attempts(self) -> list[CallAttempt]:
        with self._db.session() as s:
            return [to_attempt(r) for r in s.scalars(
                select(CallAttemptRow).where(CallAttemptRow.state != "ended"))]


def _dialing_counts(s: Session, campaign_ids: list[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = s.execute(
        select(CampaignContactRow.campaign_id, func.count())
        .where(CampaignContactRow.campaign_id.in_(campaign_ids),
               CampaignContactRow.state == "dialing")
        .group_by(CampaignContactRow.campaign_id)).all()
    return {int(cid): int(n) for cid, n in rows}


def _try_claim(s: Session, row: CampaignContactRow, campaign: Campaign, owner: str,
               now: datetime, lease_s: float, policy: WindowPolicy) -> DialClaim | None:
    if s.get(DncRow, row.phone) is not None:
        row.state, row.result, row.updated_at = "cancelled", "dnc", now
        return None
    allowed = policy(campaign, to_contact(row), now)
    if allowed > now:
        row.next_at, row.updated_at = allowed, now
        return None
    if row.channel == "voice":
        recent = list(s.scalars(
            select(CallAttemptRow.started_at)
            .where(CallAttemptRow.phone == row.phone, CallAttemptRow.started_at > now - DAY)
            .order_by(CallAttemptRow.started_at)))
        if len(recent) >= campaign.daily_cap:
            row.next_at, row.updated_at = recent[-campaign.daily_cap] + DAY, now
            return None
    row.state, row.lease_owner = "dialing", owner
    row.lease_until, row.updated_at = now + timedelta(seconds=lease_s), now
    if row.channel != "voice":
        return DialClaim(to_contact(row), None, campaign)
    row.attempts += 1
    attempt = CallAttemptRow(
        campaign_id=row.campaign_id, contact_id=row.id, attempt_no=row.attempts,
        phone=row.phone, channel_id=f"ivr-{uuid.uuid4()}", dialer=owner, state="originating",
        started_at=now)
    s.add(attempt)
    s.flush()  # the next contact's cap check must see this attempt
    return DialClaim(to_contact(row), to_attempt(attempt), campaign)


def _complete_if_done(s: Session, camp: CampaignRow, now: datetime) -> None:
    open_left = s.scalar(
        select(func.count()).select_from(CampaignContactRow)
        .where(CampaignContactRow.campaign_id == camp.id,
               CampaignContactRow.state.in_(("pending", "dialing"))))
    if not open_left:
        camp.state, camp.updated_at = "completed", now
