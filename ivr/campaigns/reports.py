"""Campaign reports: totals and per hour, reach and abandoned rates, CSV export.

Definitions: attempted = Originates sent; reached = contacts a person answered (AMD human) at
least once; confirmed = pressed 1; machine = attempts AMD called a machine; busy/no answer and
failed count attempts by outcome; opted out = pressed 9; fallback sent = notices delivered by
SMS or e-mail; reach rate = reached / contacts; abandoned rate = answered attempts our flow
never got (no AMD result written) / answered attempts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from ivr import csv_export
from ivr.campaigns.model import CONFIRMED, OPTED_OUT
from ivr.store.db import Database
from ivr.store.repositories.campaign_reports import AttemptFacts, CampaignReportRepository
from ivr.store.repositories.campaigns import CampaignRepository

BUSY_NO_ANSWER = ("busy", "no-answer")
FAILED = ("congestion", "rejected", "unavailable", "failed", "refused", "unknown")


@dataclass
class Counts:
    period: str = "total"
    attempted: int = 0
    reached: int = 0
    confirmed: int = 0
    machine: int = 0
    busy_no_answer: int = 0
    failed: int = 0
    opted_out: int = 0
    fallback_sent: int = 0
    answered: int = 0
    abandoned: int = 0

    def add(self, outcome: str | None, amd: str | None, response: str | None) -> None:
        if outcome in (None, "unsent"):
            return  # still in flight, or never sent
        self.attempted += 1
        if outcome == "answered" or amd is not None:
            self.answered += 1
            self.abandoned += amd is None
            self.machine += amd == "machine"
        elif outcome in BUSY_NO_ANSWER:
            self.busy_no_answer += 1
        elif outcome in FAILED:
            self.failed += 1
        self.confirmed += response == CONFIRMED
        self.opted_out += response == OPTED_OUT

    @property
    def abandoned_rate(self) -> float:
        return round(self.abandoned / self.answered, 4) if self.answered else 0.0


@dataclass
class CampaignReport:
    campaign: str
    state: str
    pause_reason: str | None
    contacts: int
    progress: dict[str, int]
    totals: Counts
    hours: list[Counts]

    @property
    def reach_rate(self) -> float:
        return round(self.totals.reached / self.contacts, 4) if self.contacts else 0.0

    def to_json(self) -> dict[str, object]:
        total = {**asdict(self.totals), "reach_rate": self.reach_rate,
                 "abandoned_rate": self.totals.abandoned_rate}
        total.pop("period")
        return {"campaign": self.campaign, "state": self.state,
                "pause_reason": self.pause_reason, "contacts": self.contacts,
                "progress": self.progress, "totals": total,
                "hours": [{**asdict(h), "abandoned_rate": h.abandoned_rate} for h in self.hours]}


def _hour(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:00Z")


def build(db: Database, name: str) -> CampaignReport:
    campaign = CampaignRepository(db).get(name)
    repo = CampaignReportRepository(db)
    totals, hours = Counts(), dict[str, Counts]()
    humans: set[int] = set()
    hour_humans: dict[str, set[int]] = {}
    facts: AttemptFacts
    for facts in repo.attempts(campaign.id):
        at, contact_id, outcome, amd, response = facts
        hour = hours.setdefault(_hour(at), Counts(_hour(at)))
        totals.add(outcome, amd, response)
        hour.add(outcome, amd, response)
        if amd == "human":
            humans.add(contact_id)
            hour_humans.setdefault(hour.period, set()).add(contact_id)
    counts = repo.contact_counts(campaign.id)
    totals.reached = len(humans)
    totals.fallback_sent = sum(n for (_, _, fb), n in counts.items() if fb in ("sms", "email"))
    for period, people in hour_humans.items():
        hours[period].reached = len(people)
    progress = CampaignRepository(db).progress(campaign.id)
    return CampaignReport(campaign.name, campaign.state, campaign.pause_reason,
                          sum(counts.values()), progress, totals, list(hours.values()))


def to_csv(report: CampaignReport) -> str:
    names = [f.name for f in fields(Counts)] + ["abandoned_rate", "reach_rate"]
    rows = [[getattr(row, n) for n in names[:-2]]
            + [row.abandoned_rate, report.reach_rate if row is report.totals else ""]
            for row in [*report.hours, report.totals]]
    return csv_export.to_csv(names, rows)
