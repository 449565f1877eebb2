"""A believable demo company: 50 customers, accounts, open requests and some call history.

Deterministic (seeded random, times relative to ``now``) and idempotent: a customer already
present (same name on the same first phone) is skipped, so loading twice adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from ivr.store.db import Database
from ivr.store.domain import NewAccount, NewRequest, Turn
from ivr.store.models import now_utc
from ivr.store.repositories import CustomerRepository, InteractionRepository

SEED = 20261125
CUSTOMERS = 50
OUTAGE_AREA = "area-12"
SHARED_PHONE = "+12125550100"
US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
# fmt: off
FIRST = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Linda", "David", "Barbara", "William",
    "Elizabeth", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Betty", "Steven", "Emily",
)
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott",
)
# fmt: on
RUSSIAN = ("Мария Смирнова", "Алексей Кузнецов", "Ольга Иванова", "Дмитрий Соколов")
# The numbers worth a first call (`ivr demo load` and the README name them): two story customers
# the greeting knows, and a number the demo does not know.
JOHN_CARTER, MARIA_GARCIA, UNKNOWN_CALLER = "+12125550103", "+12125550101", "+15551230001"
WORTH_CALLING = (
    (JOHN_CARTER, "John Carter: a personal greeting, his bill forecast over his limit and a "
                  "balance of 120.75 USD (press 1, then 1)"),
    (MARIA_GARCIA, "Maria Garcia: an open request (a technician visit tomorrow) and an outage "
                   "in her area"),
    (UNKNOWN_CALLER, "a number the demo does not know: the generic greeting"),
)


@dataclass(frozen=True)
class DemoSummary:
    created: int
    skipped: int
    customers: int
    shared_phone: str
    shared_phone_customers: int
    over_limit_accounts: int
    outage_area: str
    outage_customers: int
    interactions: int


@dataclass
class _Spec:
    name: str
    phones: list[str]
    language: str = "en"
    segment: str = "standard"
    channel: str = "voice"
    email: str | None = None
    zone: str = "America/New_York"
    area: str | None = None
    accounts: list[NewAccount] = field(default_factory=list)
    requests: list[NewRequest] = field(default_factory=list)
    history: list[tuple[timedelta, str, str]] = field(default_factory=list)  # ago, intent, outcome


def _tomorrow(now: datetime, zone: str, start: int, end: int) -> tuple[datetime, datetime]:
    local = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    tz = ZoneInfo(zone)
    return (
        datetime.combine(local, time(start), tz).astimezone(now.tzinfo),
        datetime.combine(local, time(end), tz).astimezone(now.tzinfo),
    )


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@example.com"


def _story(now: datetime) -> list[_Spec]:
    """Hand-written customers that the sample flows and the docs talk about."""
    visit = _tomorrow(now, "America/New_York", 10, 12)
    return [
        _Spec(
            "Maria Garcia",
            [SHARED_PHONE, MARIA_GARCIA],
            area=OUTAGE_AREA,
            email="maria.garcia@example.com",
            accounts=[
                NewAccount("ACC-100001", Decimal("54.20"), Decimal("80.00"), Decimal("61.10"))
            ],
            requests=[
                NewRequest("technician_visit", "Router replacement", "scheduled", *visit),
            ],
            history=[(timedelta(days=2), "technical_support", "transferred")],
        ),
        _Spec(
            "Luis Garcia",
            [SHARED_PHONE, "+12125550102"],
            area=OUTAGE_AREA,
            channel="sms",
            accounts=[
                NewAccount("ACC-100002", Decimal("0.00"), Decimal("60.00"), Decimal("38.00"))
            ],
            requests=[
                NewRequest("billing_dispute", "Billing dispute: roaming charges", "in_review")
            ],
            history=[(timedelta(days=5), "billing", "self_served")],
        ),
        _Spec(
            "John Carter",
            [JOHN_CARTER],
            segment="premium",
            channel="sms",
            email="john.carter@example.com",
            zone="America/Chicago",
            accounts=[
                NewAccount("ACC-100003", Decimal("120.75"), Decimal("100.00"), Decimal("142.50"))
            ],
        ),
        _Spec(
            "Иван Петров",
            ["+79161234567"],
            language="ru",
            zone="Europe/Moscow",
            accounts=[
                NewAccount(
                    "ACC-700001", Decimal("850.00"), Decimal("1500.00"), Decimal("1200.00"), "RUB"
                )
            ],
        ),
    ]


def _account(rng: random.Random, number: str, currency: str) -> NewAccount:
    scale = Decimal(80) if currency == "RUB" else Decimal(1)
    limit = Decimal(rng.choice((50, 75, 100, 150))) * scale if rng.random() < 0.8 else None
    forecast = (Decimal(rng.randrange(2000, 18000)) / 100 * scale).quantize(Decimal("0.01"))
    balance = Decimal(rng.randrange(-2000, 15000)) / 100 * scale
    return NewAccount(number, balance.quantize(Decimal("0.01")), limit, forecast, currency)


def _requests(rng: random.Random, now: datetime, zone: str) -> list[NewRequest]:
    roll = rng.random()
    if roll < 0.15:
        return [
            NewRequest(
                "technician_visit", "Router replacement", "scheduled", *_tomorrow(now, zone, 14, 16)
            )
        ]
    if roll < 0.25:
        return [NewRequest("billing_dispute", "Billing dispute", "in_review")]
    if roll < 0.35:
        return [NewRequest("complaint", "Slow internet in the evenings", "open")]
    if roll < 0.45:
        return [NewRequest("relocation", "Move service to new address", "resolved")]
    return []


def _random_specs(rng: random.Random, now: datetime, count: int) -> list[_Spec]:
    names = rng.sample([f"{f} {last}" for f in FIRST for last in LAST], count - len(RUSSIAN))
    # 212-NXX-XXXX: numbers that phone-number validation (and so a campaign import) accepts.
    numbers = rng.sample(range(2_000_000, 9_999_999), count)
    specs = []
    for i, name in enumerate([*names, *RUSSIAN]):
        russian = name in RUSSIAN
        zone = "Europe/Moscow" if russian else rng.choice(US_ZONES)
        phone = f"+7916{numbers[i]}" if russian else f"+1212{numbers[i]}"
        history = [
            (
                timedelta(days=rng.randrange(1, 60)),
                rng.choice(("billing", "outage", "balance")),
                rng.choice(("self_served", "self_served", "transferred", "abandoned")),
            )
            for _ in range(rng.choice((0, 0, 1, 2)))
        ]
        specs.append(
            _Spec(
                name,
                [phone],
                language="ru" if russian else "en",
                segment=rng.choice(("standard", "standard", "premium", "business")),
                channel=rng.choice(("voice", "sms", "email")),
                email=None if russian or rng.random() < 0.2 else _email(name),
                zone=zone,
                area=OUTAGE_AREA if rng.random() < 0.2 else f"area-{rng.randrange(1, 30):02d}",
                accounts=[_account(rng, f"ACC-{200001 + i}", "RUB" if russian else "USD")],
                requests=_requests(rng, now, zone),
                history=history,
            )
        )
    return specs


def demo_specs(now: datetime) -> list[_Spec]:
    rng = random.Random(SEED)
    story = _story(now)
    return [*story, *_random_specs(rng, now, CUSTOMERS - len(story))]


def _exists(customers: CustomerRepository, spec: _Spec) -> bool:
    return any(c.name == spec.name for c in customers.find_by_phone(spec.phones[0]))


def _history(interactions: InteractionRepository, spec: _Spec, cid: int, now: datetime) -> int:
    for ago, intent, outcome in spec.history:
        start = now - ago
        interactions.record(
            spec.phones[0],
            "voice",
            start,
            start + timedelta(seconds=95),
            outcome,
            customer_id=cid,
            intent=intent,
            path=["greeting", "menu", intent],
            transcript=[
                Turn("system", "How can I help you?", 0, "menu"),
                Turn("caller", intent, 4200),
            ],
        )
    return len(spec.history)


def load_demo(db: Database, now: datetime | None = None) -> DemoSummary:
    """Load the demo company; customers already loaded are skipped."""
    now = now or now_utc()
    customers, interactions = CustomerRepository(db), InteractionRepository(db)
    specs = demo_specs(now)
    created = recorded = 0
    for spec in specs:
        if _exists(customers, spec):
            continue
        customer = customers.add(
            spec.name,
            spec.phones,
            language=spec.language,
            segment=spec.segment,
            preferred_channel=spec.channel,
            email=spec.email,
            time_zone=spec.zone,
            area=spec.area,
            accounts=spec.accounts,
            requests=spec.requests,
        )
        recorded += _history(interactions, spec, customer.id, now)
        created += 1
    over = sum(
        1
        for s in specs
        for a in s.accounts
        if a.bill_limit is not None and a.forecast is not None and a.forecast > a.bill_limit
    )
    return DemoSummary(
        created=created,
        skipped=len(specs) - created,
        customers=len(specs),
        shared_phone=SHARED_PHONE,
        shared_phone_customers=sum(SHARED_PHONE in s.phones for s in specs),
        over_limit_accounts=over,
        outage_area=OUTAGE_AREA,
        outage_customers=sum(s.area == OUTAGE_AREA for s in specs),
        interactions=recorded,
    )
