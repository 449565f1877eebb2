"""Report tables for the console, computed from interactions, call attempts and the audit log.

Each report is a header plus rows (so the same data feeds a chart and a CSV export). Buckets are
UTC hours/days; aggregation happens here rather than in SQL so SQLite and PostgreSQL agree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from ivr.csv_export import to_csv
from ivr.customers.history import repeat_report
from ivr.store.db import Database
from ivr.store.models import AuditRow, CallAttemptRow, InteractionRow
from ivr.store.repositories.contacts import ContactRepository

Cell = str | int | float
OUTCOMES = ("self_served", "transferred", "abandoned", "failed")
REPEAT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: Sequence[Sequence[Cell]]

    def csv(self) -> str:
        return to_csv(self.header, self.rows)

    def column(self, index: int) -> list[Cell]:
        return [row[index] for row in self.rows]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _voice(db: Database, since: datetime) -> list[tuple[datetime, str | None, str | None]]:
    query = select(InteractionRow.started_at, InteractionRow.outcome, InteractionRow.intent).where(
        InteractionRow.channel == "voice", InteractionRow.started_at >= since)
    with db.session() as s:
        return [(_utc(a), b, c) for a, b, c in s.execute(query)]


def calls_per_hour(db: Database, since: datetime) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for started, outcome, _ in _voice(db, since):
        counts[started.strftime("%Y-%m-%d %H:00")][outcome or "unknown"] += 1
    rows: list[list[Cell]] = [[hour, sum(c.values()), *(c[o] for o in OUTCOMES)]
                              for hour, c in sorted(counts.items())]
    return Table("Calls per hour", ("hour_utc", "calls", *OUTCOMES), rows)


def containment(db: Database, since: datetime) -> Table:
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for started, outcome, _ in _voice(db, since):
        days[started.strftime("%Y-%m-%d")][outcome or "unknown"] += 1
    rows: list[tuple[Cell, ...]] = []
    for day, c in sorted(days.items()):
        total = sum(c.values())
        rows.append((day, total, c["self_served"], round(100 * c["self_served"] / total, 1)))
    return Table("Self-service containment", ("day", "calls", "self_served", "rate_percent"), rows)


def transfers_by_reason(db: Database, since: datetime) -> Table:
    reasons = Counter(intent or "(none)" for _, outcome, intent in _voice(db, since)
                      if outcome == "transferred")
    return Table("Transfers by reason", ("reason", "transfers"), list(reasons.most_common()))


def top_intents(db: Database, since: datetime) -> Table:
    intents = Counter(intent for _, _, intent in _voice(db, since) if intent)
    return Table("Top intents", ("intent", "calls"), list(intents.most_common(10)))


def repeat_contacts(db: Database, since: datetime) -> Table:
    items = ContactRepository(db).between(since - REPEAT_WINDOW, datetime.now(UTC))
    rows: list[tuple[Cell, ...]] = [(r.reason, r.contacts, r.repeats, round(100 * r.rate, 1))
            for r in repeat_report(items, since, REPEAT_WINDOW)]
    return Table("Repeat contacts within 7 days", ("reason", "contacts", "repeats",
                                                   "repeat_percent"), rows)


def campaign_reach(db: Database, since: datetime) -> Table:
    query = select(CallAttemptRow.started_at, CallAttemptRow.outcome, CallAttemptRow.amd).where(
        CallAttemptRow.started_at >= since)
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with db.session() as s:
        for started, outcome, amd in s.execute(query):
            day = days[_utc(started).strftime("%Y-%m-%d")]
            day[0] += 1
            day[1] += int(outcome == "answered" and amd != "machine")
    rows: list[tuple[Cell, ...]] = [(d, n, r, round(100 * r / n, 1))
                                     for d, (n, r) in sorted(days.items())]
    return Table("Campaign reach rate", ("day", "attempts", "reached", "reach_percent"), rows)


OTP_COLUMNS = {"otp.verified": "verified", "otp.wrong": "wrong_code", "otp.lockout": "lockouts",
               "otp.expired": "expired"}


def otp_outcomes(db: Database, since: datetime) -> Table:
    query = select(AuditRow.at, AuditRow.action).where(
        AuditRow.action.in_(tuple(OTP_COLUMNS)), AuditRow.at >= since)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    with db.session() as s:
        for at, action in s.execute(query):
            days[_utc(at).strftime("%Y-%m-%d")][OTP_COLUMNS[action]] += 1
    names = tuple(OTP_COLUMNS.values())
    rows: list[list[Cell]] = [[day, *(c[n] for n in names)] for day, c in sorted(days.items())]
    return Table("OTP verifications and lockouts", ("day", *names), rows)


REPORTS: dict[str, Callable[[Database, datetime], Table]] = {
    "calls-per-hour": calls_per_hour, "containment": containment,
    "transfers": transfers_by_reason, "intents": top_intents, "repeats": repeat_contacts,
    "campaign-reach": campaign_reach, "otp": otp_outcomes,
}


def chart_spec(name: str, table: Table) -> dict[str, Any]:
    """A Chart.js configuration for a report (the browser only draws it)."""
    labels = table.column(0)
    palette = ["#3558e6", "#12b76a", "#f79009", "#f04438", "#7a5af8", "#06aed4"]

    def series(index: int, kind: str = "bar", colour: int = 0, **extra: Any) -> dict[str, Any]:
        return {"type": kind, "label": table.header[index], "data": table.column(index),
                "backgroundColor": palette[colour], "borderColor": palette[colour], **extra}

    stacked = {"x": {"stacked": True}, "y": {"stacked": True, "beginAtZero": True}}
    percent = {"y": {"beginAtZero": True, "max": 100, "title": {"display": True, "text": "%"}}}
    datasets: list[dict[str, Any]]
    scales: dict[str, Any] = {"y": {"beginAtZero": True}}
    horizontal = False
    if name == "calls-per-hour":
        datasets = [series(i, colour=i - 2) for i in range(2, 2 + len(OUTCOMES))]
        scales = stacked
    elif name in ("containment", "campaign-reach"):
        datasets = [series(len(table.header) - 1, "line", 1, tension=0, fill=False)]
        scales = percent
    elif name == "otp":
        datasets = [series(i, colour=i - 1) for i in range(1, len(table.header))]
        scales = stacked
    elif name == "repeats":
        datasets = [series(1, colour=0), series(2, colour=3)]
        horizontal = True
    else:
        datasets = [series(1, colour=0 if name == "intents" else 2)]
        horizontal = True
    return {"type": "bar", "data": {"labels": labels, "datasets": datasets},
            "options": {"indexAxis": "y" if horizontal else "x", "responsive": True,
                        "maintainAspectRatio": False, "scales": scales,
                        "plugins": {"legend": {"position": "bottom"}}}}
