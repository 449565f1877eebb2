"""OTP limits that hurt the attacker, not the owner (issue 13, item 13).

Someone who spoofs a customer's caller ID and keys wrong codes used to lock that customer out
for an hour. Now the calling line that kills codes waits longer each time (exponential
backoff, across customers), the customer is only delayed (a short, capped backoff), a code
verified by the owner resets the customer's failures, and NIST SP 800-63B's cap (no more than
100 consecutive failures) locks only until the owner verifies a code an agent sends to the
contact on file."""

from __future__ import annotations

import pytest

from ivr.auth.errors import OtpLocked, OtpThrottled
from ivr.auth.otp import calling_line
from tests.auth.conftest import Rig, sms_code

ATTACKER = "+15550009999 PJSIP/trunk-b"
OWNER = "+15551230002 PJSIP/trunk-a"


async def _kill_a_code(rig: Rig, customer_id: int, line: str) -> None:
    """Ask for a code and key three wrong entries: the code is dead."""
    await rig.otp.issue(customer_id, line=line)
    code = sms_code(rig.gateway) if rig.gateway.received else "000000"
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(3):
        await rig.otp.verify(customer_id, wrong)


async def test_the_line_that_kills_codes_waits_longer_each_time(rig: Rig) -> None:
    bob = rig.people.bob
    waits = []
    for _ in range(4):
        await _kill_a_code(rig, bob.id, ATTACKER)
        with pytest.raises(OtpThrottled) as refused:
            await rig.otp.issue(bob.id, line=ATTACKER)
        waits.append(refused.value.retry_after)
        rig.clock.advance(refused.value.retry_after + 1)
    assert waits == [30, 60, 120, 240]


async def test_a_throttled_line_is_throttled_for_every_customer(rig: Rig) -> None:
    await _kill_a_code(rig, rig.people.bob.id, ATTACKER)
    with pytest.raises(OtpThrottled):
        await rig.otp.issue(rig.people.anna.id, line=ATTACKER)  # anna has no failures
    await rig.otp.issue(rig.people.anna.id, line=OWNER)


async def test_the_owner_is_delayed_minutes_not_locked_out_for_an_hour(rig: Rig) -> None:
    bob = rig.people.bob
    for n in range(3):
        rig.clock.advance(3 * 60 if n else 0)  # the attacker comes back as soon as he may
        await _kill_a_code(rig, bob.id, ATTACKER)
    with pytest.raises(OtpThrottled) as refused:
        await rig.otp.issue(bob.id, line=OWNER)
    assert 0 < refused.value.retry_after <= 15 * 60  # a delay, never an hour
    rig.clock.advance(refused.value.retry_after)
    await rig.otp.issue(bob.id, line=OWNER)
    assert (await rig.otp.verify(bob.id, sms_code(rig.gateway))).ok


async def test_a_code_the_owner_verifies_resets_the_customers_failures(rig: Rig) -> None:
    bob = rig.people.bob
    for _ in range(2):
        await _kill_a_code(rig, bob.id, ATTACKER)
        rig.clock.advance(5 * 60)
    await rig.otp.issue(bob.id, line=OWNER)
    assert (await rig.otp.verify(bob.id, sms_code(rig.gateway))).ok
    rig.clock.advance(60)
    await _kill_a_code(rig, bob.id, OWNER + " again")
    with pytest.raises(OtpThrottled) as refused:
        await rig.otp.issue(bob.id, line=OWNER)
    assert refused.value.retry_after == 30  # counted afresh since the verified code


async def test_a_hundred_failures_lock_until_the_owner_verifies_a_code_sent_by_an_agent(
    rig: Rig,
) -> None:
    bob = rig.people.bob
    for n in range(34):  # 102 wrong entries, from ever new lines, as slowly as allowed
        await _kill_a_code(rig, bob.id, f"+1555000{n:04d} PJSIP/trunk-{n}")
        rig.clock.advance(16 * 60)
    with pytest.raises(OtpLocked) as refused:
        await rig.otp.issue(bob.id, line=OWNER)
    assert not isinstance(refused.value, OtpThrottled)  # locked, not just delayed
    await rig.otp.issue(bob.id, actor="agent:7", unlock=True)  # to the phone on file
    assert (await rig.otp.verify(bob.id, sms_code(rig.gateway))).ok
    await rig.otp.issue(bob.id, line=OWNER)  # the owner's verified code ended the lock


def test_the_calling_line_is_the_caller_id_and_the_channel_endpoint() -> None:
    # Asterisk names channels <tech>/<endpoint>-<sequence>: the endpoint is the peer or trunk.
    assert calling_line("+15551230002", "PJSIP/trunk-a-0000001c") == "+15551230002 PJSIP/trunk-a"
    assert calling_line(None, "SIP/10.0.0.5-00000002") == "withheld SIP/10.0.0.5"
    assert calling_line("+15551230002", None) == "+15551230002"
