"""Account data is told only to a caller authenticated for that account (auth/policy.py, applied
by the engine before any node that reveals it): emulated calls through the sample flow with
the production hooks (CRM lookup in the store, one-time codes by SMS to a loopback gateway)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ivr.flows.catalog import PinnedFlows
from ivr.flows.compiled import CompiledFlow
from ivr.flows.loader import load_text
from ivr.flows.validate import check
from ivr.store.db import Database
from ivr.store.domain import NewAccount, NewRequest
from ivr.store.repositories.customers import CustomerRepository
from ivr.telephony.emulator.agi_events import CommandReceived
from tests.customers.http_stub import HttpStub
from tests.flows import caller_rig
from tests.flows.caller_rig import Rig, late_keys, make_rig, sample
from tests.flows.conftest import CallOutcome, When, place_call

gateway, caller_db = caller_rig.gateway, caller_rig.caller_db

OPEN = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # Tuesday 10:00 in New York: open
MARIA_PHONE = "+12125550101"
MARIA_ACCOUNT = "4000001"
MARIA_BALANCE = "5420"  # 54.20, said digit by digit
STRANGER = "+15550209999"
TO_BALANCE = (When("ivr/main-menu", "1"), When("ivr/billing-menu", "1"))
KEYS_MARIAS_ACCOUNT = When("ivr/billing-enter-account", MARIA_ACCOUNT + "#")


@pytest.fixture
async def rig(caller_db: Database, gateway: HttpStub) -> AsyncIterator[Rig]:
    visit = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
    CustomerRepository(caller_db).add(
        "Maria Garcia", [MARIA_PHONE], time_zone="America/New_York", area="north",
        accounts=[NewAccount(MARIA_ACCOUNT, Decimal("54.20"), Decimal("80"), Decimal("61.10"))],
        requests=[NewRequest("technician", "router replacement", "scheduled", visit, visit)],
    )  # fmt: skip
    made = make_rig(caller_db, gateway)
    yield made
    await made.sms.aclose()


def said(out: CallOutcome) -> list[bytes]:
    return [e.line for e in out.events if isinstance(e, CommandReceived) and b"SAY" in e.line]


def heard_balance(out: CallOutcome) -> bool:
    return "balance-say" in out.result.path or any(MARIA_BALANCE.encode() in s for s in said(out))


async def call(
    rig: Rig, caller: str, *script: When, flow: CompiledFlow | None = None,
    flows: PinnedFlows | None = None,
) -> CallOutcome:  # fmt: skip
    out = await place_call(flow or sample("main-en"), script, services=rig.services,
                           flows=flows, caller=caller, now=OPEN)  # fmt: skip
    assert out.error is None, out.error
    return out


async def test_a_stranger_who_keys_marias_account_number_does_not_hear_her_balance(
    rig: Rig,
) -> None:
    out = await call(rig, STRANGER, *TO_BALANCE, KEYS_MARIAS_ACCOUNT)
    assert not heard_balance(out)
    assert "ivr/billing-your-balance-is" not in out.prompts
    assert out.result.path[-2:] == ["agent", "to-agent"]
    assert "54.20" not in out.variables.values()
    context = rig.services.live.get(out.call.channel)
    assert context is not None and not context.authenticated and context.auth_method is None


async def test_a_stranger_cannot_guess_the_code_sent_to_maria(rig: Rig) -> None:
    wrong = [When(p, "000000") for p in ("ivr/auth-enter-code", "ivr/auth-code-wrong",
                                         "ivr/auth-code-wrong")]  # fmt: skip
    out = await call(rig, STRANGER, *TO_BALANCE, KEYS_MARIAS_ACCOUNT, *wrong)
    assert not heard_balance(out)
    assert rig.gateway.received[0].json()["to"] == MARIA_PHONE  # the code went to Maria
    assert out.variables["IVR_AUTHENTICATED"] == "no"


async def test_maria_calling_from_her_own_number_hears_her_balance(rig: Rig) -> None:
    out = await call(rig, MARIA_PHONE, *TO_BALANCE)  # silence at the greeting's offer
    assert said(out) == [f'SAY DIGITS {MARIA_BALANCE} ""'.encode()]
    assert rig.codes_sent() == 0  # a caller-ID match is enough for a balance (low risk)


async def test_maria_from_another_phone_hears_her_balance_once_she_keys_the_code(
    rig: Rig,
) -> None:
    code = late_keys("ivr/auth-enter-code", rig.last_code)
    out = await call(rig, STRANGER, *TO_BALANCE, KEYS_MARIAS_ACCOUNT, code)
    at = out.result.path.index("verify-account")
    assert out.result.path[at : at + 3] == ["verify-account", "balance", "balance-say"]
    assert said(out) == [f'SAY DIGITS {MARIA_BALANCE} ""'.encode()]
    assert rig.codes_sent() == 1 and out.result.outcome == "self_served"


# A flow that finds a customer by a keyed number and jumps into main-en's balance node: the
# validator of either file alone cannot see the path, so the engine itself must refuse.
JUMP = """flow: jump
language: en
start: ask
defaults: {fallback: bye}
nodes:
  ask:
    type: gather
    kind: account
    var: account
    prompt: ivr/billing-enter-account
    next: find
  find:
    type: lookup
    by: account
    value: "{account}"
    on: {found: into-balance, not_found: bye, ambiguous: bye}
  into-balance: {type: goto, flow: main-en, node: balance}
  bye: {type: hangup, prompt: ivr/goodbye}
"""


async def test_the_engine_refuses_a_balance_reached_through_another_flow(rig: Rig) -> None:
    jump = CompiledFlow(load_text(JUMP, "jump.yaml"))
    assert check(jump.loaded, prompts=None, flows={"main-en": ["balance"]}) == []
    flows = PinnedFlows({"main-en": sample("main-en")})
    out = await call(rig, STRANGER, KEYS_MARIAS_ACCOUNT, flow=jump, flows=flows)
    assert not heard_balance(out)
    assert out.result.path[:4] == ["ask", "find", "into-balance", "main-en:balance"]
    assert out.result.path[-2:] == ["main-en:agent", "main-en:to-agent"]  # its fallback
    assert out.run is not None
    assert [(i.node, i.value) for i in out.run.inputs if i.kind == "policy"] == [
        ("balance", "refused:balance")
    ]
