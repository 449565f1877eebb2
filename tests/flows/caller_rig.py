"""The production hooks (CallerServices) over real peers, for emulated calls through the sample
flows: the store's customers (tests/customers), an SMS gateway on loopback, an OTP service on a
hand-driven clock, and a `When` whose keys are read when its prompt starts (a code that was just
sent)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.auth.otp import OtpService
from ivr.auth.senders import HttpSmsSender
from ivr.customers.context import LiveContexts
from ivr.customers.crm import CallerLookup, SqlCrm
from ivr.customers.resilience import TtlCache
from ivr.flows.caller_services import CallerServices
from ivr.flows.compiled import CompiledFlow
from ivr.flows.store_services import StoreServices
from ivr.flows.validate import compile_flow
from ivr.store.db import Database
from ivr.store.domain import AuditEntry
from ivr.store.repositories.audit import AuditRepository
from tests.auth.conftest import SECRET, Clock, code_in
from tests.customers.conftest import NOW, People, add_people
from tests.customers.http_stub import HttpStub, http_stub
from tests.flows.conftest import When

DIALPLANS = Path(__file__).parents[2] / "dialplans"
OTP_TTL = 300


def sample(name: str) -> CompiledFlow:
    path = DIALPLANS / f"{name}.yaml"
    return compile_flow(path.read_text(encoding="utf-8"), str(path))


@dataclass
class Rig:
    services: CallerServices
    otp: OtpService
    clock: Clock
    gateway: HttpStub
    sms: HttpSmsSender
    db: Database

    def audit(self, customer_id: int) -> list[str]:
        """The customer's OTP audit trail, oldest first."""
        entries: list[AuditEntry] = AuditRepository(self.db).list(subject=f"customer:{customer_id}")
        return [e.action for e in reversed(entries)]

    def last_code(self) -> str:
        return code_in(str(json.loads(self.gateway.received[-1].body)["text"]))

    def codes_sent(self) -> int:
        return len(self.gateway.received)


@pytest.fixture
async def gateway() -> AsyncIterator[HttpStub]:
    """The SMS gateway on loopback: what it received is what the caller was sent."""
    async with http_stub() as stub:
        yield stub


@pytest.fixture
def caller_db(sqlite_url: str) -> Iterator[Database]:
    """A SQLite store of its own (not the project-wide `db`, which also runs on PostgreSQL)."""
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def people(caller_db: Database) -> People:
    return add_people(caller_db)


def make_rig(
    db: Database, gateway: HttpStub, *, lookup: CallerLookup | None = None, per_hour: int = 5
) -> Rig:
    clock = Clock()
    sms = HttpSmsSender(gateway.url + "/sms")
    otp = OtpService(db, SECRET, {"sms": sms}, ttl_seconds=OTP_TTL, max_per_window=per_hour,
                     clock=clock)  # fmt: skip
    lookup = lookup or CallerLookup(SqlCrm(db), cache=TtlCache(30.0))
    services = CallerServices(
        db, lookup, otp=otp, store=StoreServices(db), live=LiveContexts(db), clock=clock
    )
    return Rig(services, otp, clock, gateway, sms, db)


def late_keys(prompt: str, keys: Callable[[], Awaitable[str] | str]) -> When:
    """When `prompt` starts, press what `keys()` returns then (e.g. the code just sent)."""
    step = When(prompt)

    async def fill() -> None:
        got = keys()
        value = got if isinstance(got, str) else await got
        object.__setattr__(step, "keys", value)  # When is frozen; this one is filled late

    object.__setattr__(step, "before", fill)
    return step


__all__ = ["NOW", "Rig", "late_keys", "make_rig", "sample"]
