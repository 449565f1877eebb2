"""One-time codes: issue within limits and check an entry, each in one locked transaction.

The repository never sees the digits; the caller passes the keyed hash to store and a
``matches`` callback that compares an entry against a stored hash in constant time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ivr.store.db import Database
from ivr.store.domain import OtpCode, check_aware
from ivr.store.errors import NotFound
from ivr.store.models import OTP_CHANNELS, CustomerRow, OtpCodeRow

IssueStatus = Literal["issued", "rate_limited", "locked", "throttled"]
CheckStatus = Literal["verified", "wrong", "lockout", "locked", "expired", "used", "no_code"]


@dataclass(frozen=True, slots=True)
class OtpStanding:
    """Failures since the last verified code: the customer's (all lines) and the line's (all
    customers). `dead` counts codes killed by wrong entries since `since`."""

    failures: int  # the customer's wrong entries since its last verified code
    dead: int
    last_dead_at: datetime | None
    line_dead: int = 0
    line_last_dead_at: datetime | None = None


Refusal = tuple[Literal["locked", "throttled"], int]  # and the seconds to wait (throttled)


@dataclass(frozen=True, slots=True)
class OtpIssue:
    status: IssueStatus
    code: OtpCode | None
    issued_in_window: int  # codes issued in the rate window before this request
    retry_after: int = 0  # seconds, when throttled


@dataclass(frozen=True, slots=True)
class OtpCheck:
    status: CheckStatus
    code: OtpCode | None


def _code(row: OtpCodeRow) -> OtpCode:
    return OtpCode(
        id=row.id,
        customer_id=row.customer_id,
        channel=row.channel,
        destination=row.destination,
        code_hash=row.code_hash,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        used_at=row.used_at,
        locked_at=row.locked_at,
        line=row.line,
    )


class OtpRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def issue(
        self,
        customer_id: int,
        channel: str,
        destination: str,
        code_hash: str,
        *,
        now: datetime,
        expires_at: datetime,
        window_start: datetime,
        max_in_window: int,
        dead_since: datetime,
        line: str | None = None,
        refuse: Callable[[OtpStanding], Refusal | None] = lambda _: None,
    ) -> OtpIssue:
        """Store a new code unless `refuse` says no, given the failures of the customer and
        of `line` (codes killed since `dead_since` count), or the customer is at the rate limit.
        """
        if channel not in OTP_CHANNELS:
            raise ValueError(f"channel must be one of {OTP_CHANNELS}, not {channel!r}")
        for value, what in ((now, "now"), (expires_at, "expires_at"), (window_start, "since")):
            check_aware(value, what)
        with self._db.session(write=True) as s:
            self._lock_customer(s, customer_id)
            refusal = refuse(self._standing(s, customer_id, line, dead_since))
            if refusal is not None:
                return OtpIssue(refusal[0], None, 0, refusal[1])
            recent = int(
                s.scalar(
                    select(func.count())
                    .select_from(OtpCodeRow)
                    .where(OtpCodeRow.customer_id == customer_id)
                    .where(OtpCodeRow.issued_at >= window_start)
                )
                or 0
            )
            if recent >= max_in_window:
                return OtpIssue("rate_limited", None, recent)
            row = OtpCodeRow(
                customer_id=customer_id,
                channel=channel,
                destination=destination,
                code_hash=code_hash,
                issued_at=now,
                expires_at=expires_at,
                attempts=0,
                line=line,
            )
            s.add(row)
            s.flush()
            return OtpIssue("issued", _code(row), recent)

    def check(
        self,
        customer_id: int,
        matches: Callable[[str], bool],
        *,
        now: datetime,
        max_attempts: int,
        max_failures: int | None = None,
    ) -> OtpCheck:
        """Check an entry against the customer's latest code; a resend supersedes older codes.
        At `max_failures` the customer's codes asked for from a calling line are refused
        unchecked; one an agent sent (no line) is still checked, so the owner can unlock."""
        check_aware(now, "now")
        with self._db.session(write=True) as s:
            self._lock_customer(s, customer_id)
            row = s.scalars(
                select(OtpCodeRow)
                .where(OtpCodeRow.customer_id == customer_id)
                .order_by(OtpCodeRow.issued_at.desc(), OtpCodeRow.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return OtpCheck("no_code", None)
            capped = max_failures is not None and row.line is not None and (
                self._failures(s, customer_id) >= max_failures)
            status = "locked" if capped else self._judge(row, matches, now, max_attempts)
            s.flush()
            return OtpCheck(status, _code(row))

    def latest(self, customer_id: int) -> OtpCode | None:
        query = (
            select(OtpCodeRow)
            .where(OtpCodeRow.customer_id == customer_id)
            .order_by(OtpCodeRow.issued_at.desc(), OtpCodeRow.id.desc())
            .limit(1)
        )
        with self._db.session() as s:
            row = s.scalars(query).first()
            return None if row is None else _code(row)

    @staticmethod
    def _judge(
        row: OtpCodeRow, matches: Callable[[str], bool], now: datetime, max_attempts: int
    ) -> CheckStatus:
        if row.used_at is not None:
            return "used"
        if row.locked_at is not None:
            return "locked"
        if row.expires_at <= now:
            return "expired"
        if matches(row.code_hash):
            row.used_at = now
            return "verified"
        row.attempts += 1
        if row.attempts >= max_attempts:
            row.locked_at = now
            return "lockout"
        return "wrong"

    @classmethod
    def _standing(
        cls, s: Session, customer_id: int, line: str | None, since: datetime
    ) -> OtpStanding:
        dead, last = cls._dead(s, OtpCodeRow.customer_id == customer_id, since)
        standing = OtpStanding(cls._failures(s, customer_id), dead, last)
        if line is None:
            return standing
        line_dead, line_last = cls._dead(s, OtpCodeRow.line == line, since)
        return OtpStanding(standing.failures, dead, last, line_dead, line_last)

    @staticmethod
    def _failures(s: Session, customer_id: int) -> int:
        """Wrong entries since the customer's last verified code (consecutive failures)."""
        mine = OtpCodeRow.customer_id == customer_id
        last_ok = s.scalar(select(func.max(OtpCodeRow.used_at)).where(mine))
        query = select(func.coalesce(func.sum(OtpCodeRow.attempts), 0)).where(mine)
        if last_ok is not None:
            query = query.where(OtpCodeRow.issued_at > last_ok)
        return int(s.scalar(query) or 0)

    @staticmethod
    def _dead(
        s: Session, whose: ColumnElement[bool], since: datetime
    ) -> tuple[int, datetime | None]:
        """Codes killed by wrong entries after `since` and after the last verified one."""
        last_ok = s.scalar(select(func.max(OtpCodeRow.used_at)).where(whose))
        query = select(func.count(), func.max(OtpCodeRow.locked_at)).where(
            whose, OtpCodeRow.locked_at >= since)
        if last_ok is not None:
            query = query.where(OtpCodeRow.locked_at > last_ok)
        count, last = s.execute(query).one()
        return int(count or 0), last

    @staticmethod
    def _lock_customer(s: Session, customer_id: int) -> None:
        # Serialises issue/check per customer on PostgreSQL (SQLite has BEGIN IMMEDIATE).
        query = select(CustomerRow.id).where(CustomerRow.id == customer_id).with_for_update()
        if s.scalar(query) is None:
            raise NotFound(f"no customer {customer_id}")
