"""One-time codes on emulated calls through the sample flow (billing -> change the bill limit):
the code goes by SMS to the number on file (a real HTTP gateway on loopback), the caller keys
what the gateway received; wrong, expired, reused and rate-limited codes fail closed, a lockout
sends the caller to an agent with the reason, and the audit log shows every step."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from ivr.calls import import_flows, make_call_handler
from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.flows.runtime import FlowContext
from ivr.store.db import Database
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import Clock
from ivr.telephony.fastagi import FastAgiServer
from tests.auth.conftest import SECRET, code_in
from tests.customers.conftest import ANNA_PHONE, NOW, SHARED_PHONE, People
from tests.customers.http_stub import HttpStub
from tests.flows import caller_rig
from tests.flows.caller_rig import DIALPLANS, OTP_TTL, Rig, late_keys, make_rig, sample
from tests.flows.conftest import PROMPT_SAMPLES, SCALE, CallOutcome, When, _drive, place_call

TO_BILL_LIMIT = (When("ivr/main-menu", "1"), When("ivr/billing-menu", "2"))
NEW_LIMIT = When("ivr/billing-enter-limit", "150#")


# Fixtures shared by the caller tests (tests/flows/caller_rig.py). Bound as module attributes,
# not imported by name, so every `gateway`/`people` parameter is not an unused import redefined.
gateway, caller_db, people = caller_rig.gateway, caller_rig.caller_db, caller_rig.people


@pytest.fixture
def db(caller_db: Database) -> Database:
    return caller_db  # SQLite only here, unlike the project-wide `db`


async def rig_for(db: Database, gateway: HttpStub, per_hour: int = 5) -> Rig:
    return make_rig(db, gateway, per_hour=per_hour)


@pytest.fixture
async def rig(db: Database, gateway: HttpStub, people: People) -> AsyncIterator[Rig]:
    made = make_rig(db, gateway)
    yield made
    await made.sms.aclose()


async def call(rig: Rig, *script: When, caller: str = ANNA_PHONE) -> CallOutcome:
    out = await place_call(sample("main-en"), script, services=rig.services, caller=caller, now=NOW)
    assert out.error is None, out.error
    return out


def wrong(rig: Rig) -> str:
    return f"{(int(rig.last_code()) + 1) % 10**6:06d}"


async def test_code_keyed_from_the_sms_authenticates_the_bill_limit_change(
    rig: Rig, people: People
) -> None:
    code = late_keys("ivr/auth-enter-code", rig.last_code)
    out = await call(rig, *TO_BILL_LIMIT, code, NEW_LIMIT)
    assert out.result.path[-3:] == ["verify", "bill-limit", "limit-to-agent"]
    assert rig.gateway.received[0].json()["to"] == ANNA_PHONE  # the number on file
    assert out.variables["IVR_AUTHENTICATED"] == "yes"
    assert out.variables["IVR_AUTH_METHOD"] == "otp"
    assert out.variables["IVR_NEW_LIMIT"] == "150.00"
    assert out.variables["IVR_TRANSFER_TO"] == "queue-billing"
    assert rig.audit(people.anna.id) == ["otp.issued", "otp.sent", "otp.verified"]


async def test_three_wrong_codes_lock_out_and_the_agent_is_told_why(
    rig: Rig, people: People
) -> None:
    tries = [late_keys(p, lambda: wrong(rig)) for p in ("ivr/auth-enter-code",
             "ivr/auth-code-wrong", "ivr/auth-code-wrong")]  # fmt: skip
    out = await call(rig, *TO_BILL_LIMIT, *tries)
    assert out.result.path[-3:] == ["verify", "agent", "to-agent"]
    assert "ivr/auth-locked" in out.prompts and "ivr/billing-enter-limit" not in out.prompts
    assert out.variables["IVR_AUTHENTICATED"] == "no"
    assert out.variables["IVR_AUTH_RESULT"] == "locked"
    context = rig.services.live.get(out.call.channel)
    assert context is not None and context.extra["reason"] == "otp_locked"
    assert not context.authenticated
    assert rig.audit(people.anna.id) == [
        "otp.issued", "otp.sent", "otp.wrong", "otp.wrong", "otp.lockout",
    ]  # fmt: skip

    # The code died: a call right after gets no code (backoff) and goes to an agent.
    again = await call(rig, *TO_BILL_LIMIT)
    assert again.result.path[-3:] == ["verify", "agent", "to-agent"]
    assert "ivr/auth-enter-code" not in again.prompts
    assert rig.codes_sent() == 1
    assert rig.audit(people.anna.id)[-1] == "otp.throttled"


async def test_expired_code_fails_and_star_sends_a_new_one_that_works(
    rig: Rig, people: People
) -> None:
    def stale_code() -> str:
        rig.clock.advance(OTP_TTL + 1)  # the caller took too long
        return rig.last_code()

    script = [
        late_keys("ivr/auth-enter-code", stale_code),
        When("ivr/auth-code-wrong", "*"),
        late_keys("ivr/auth-code-resent", rig.last_code),
        NEW_LIMIT,
    ]
    out = await call(rig, *TO_BILL_LIMIT, *script)
    assert out.result.path[-2:] == ["bill-limit", "limit-to-agent"]
    assert rig.codes_sent() == 2
    assert out.variables["IVR_AUTHENTICATED"] == "yes"
    assert rig.audit(people.anna.id) == [
        "otp.issued", "otp.sent", "otp.expired", "otp.resend_requested", "otp.issued",
        "otp.sent", "otp.verified",
    ]  # fmt: skip


async def test_rate_limited_code_fails_closed_to_an_agent(
    db: Database, gateway: HttpStub, people: People
) -> None:
    rig = await rig_for(db, gateway, per_hour=1)
    await rig.otp.issue(people.anna.id)  # this hour's only code went out before the call
    out = await call(rig, *TO_BILL_LIMIT)
    await rig.sms.aclose()
    assert out.result.path[-3:] == ["verify", "agent", "to-agent"]
    assert "ivr/auth-enter-code" not in out.prompts
    assert out.variables["IVR_AUTHENTICATED"] == "no"
    assert out.variables["IVR_AUTH_RESULT"] == "rate_limited"
    assert rig.codes_sent() == 1
    assert rig.audit(people.anna.id)[-1] == "otp.rate_limited"


async def test_star_over_the_hourly_limit_keeps_the_code_already_sent(
    db: Database, gateway: HttpStub, people: People
) -> None:
    rig = await rig_for(db, gateway, per_hour=1)
    script = [
        When("ivr/auth-enter-code", "*"),
        late_keys("ivr/auth-no-more-codes", rig.last_code),
        NEW_LIMIT,
    ]
    out = await call(rig, *TO_BILL_LIMIT, *script)
    await rig.sms.aclose()
    assert out.variables["IVR_AUTHENTICATED"] == "yes"
    assert rig.codes_sent() == 1
    assert rig.audit(people.anna.id) == [
        "otp.issued", "otp.sent", "otp.resend_requested", "otp.rate_limited", "otp.verified",
    ]  # fmt: skip


async def test_a_used_code_is_refused_the_second_time(rig: Rig, people: People) -> None:
    ctx = FlowContext(caller=ANNA_PHONE, customer={"id": str(people.anna.id)})
    assert (await rig.services.send_otp(ctx, "otp")).outcome == "sent"
    code = rig.last_code()
    assert (await rig.services.verify_otp(ctx, code)).outcome == "verified"
    reused = await rig.services.verify_otp(ctx, code)
    assert (reused.outcome, reused.data["auth_result"]) == ("failed", "used")
    assert rig.audit(people.anna.id)[-1] == "otp.reused"


async def test_no_code_is_checked_before_one_was_sent(rig: Rig, people: People) -> None:
    ctx = FlowContext(caller=ANNA_PHONE, customer={"id": str(people.anna.id)})
    checked = await rig.services.verify_otp(ctx, "123456")
    assert checked.outcome == "failed"
    assert rig.audit(people.anna.id) == []


async def test_caller_we_cannot_name_never_reaches_the_change(rig: Rig, people: People) -> None:
    out = await call(rig, *TO_BILL_LIMIT, caller=SHARED_PHONE)
    assert out.result.path[-3:] == ["verify", "agent", "to-agent"]
    assert out.variables["IVR_AUTH_RESULT"] == "unavailable"
    assert rig.codes_sent() == 0


async def test_settings_built_handler_authenticates_and_shares_its_transfer_contexts(
    db: Database, gateway: HttpStub, people: People
) -> None:
    """What `ivr serve` wires: make_call_handler(db, settings, live=registry) with OTP by SMS;
    the registry is the one the admin app should hold as app.state.live_contexts."""
    settings = Settings(
        _env_file=None, database_url=str(db.engine.url), dialplans_dir=DIALPLANS,
        prompts_dir=DIALPLANS.parent / "prompts", otp_secret=SECRET, sms_url=gateway.url + "/sms",
    )  # fmt: skip
    await import_flows(db, settings)
    live = LiveContexts(db)
    handler = make_call_handler(db, settings, live=live)
    script = [*TO_BILL_LIMIT, late_keys("ivr/auth-enter-code", lambda: sms_text_code(gateway)),
              NEW_LIMIT]  # fmt: skip
    async with FastAgiServer(handler, "127.0.0.1", 0) as server:
        emu = AgiEmulator(
            f"agi://127.0.0.1:{server.port}/ivr", args=["18005550100"],
            profile=CallProfile(callerid=ANNA_PHONE), clock=Clock(scale=SCALE),
            prompts=lambda name: PROMPT_SAMPLES,
        )  # fmt: skip
        driver = asyncio.create_task(_drive(emu, script))
        await asyncio.wait_for(emu.run(), 10)
        await asyncio.wait_for(driver, 10)
    assert emu.call.variables["IVR_TRANSFER_TO"] == "queue-billing"
    context = live.get(CallProfile().channel)
    assert context is not None
    assert context.authenticated and context.auth_method == "otp"
    assert context.customer_id == people.anna.id
    assert context.interaction_id == 1
    assert emu.call.variables["IVR_INTERACTION_ID"] == "1"


def sms_text_code(gateway: HttpStub) -> str:
    return code_in(str(gateway.received[-1].json()["text"]))
