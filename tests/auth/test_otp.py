"""OTP authentication end to end: codes go out through a real SMTP server and a real HTTP
SMS gateway on loopback; the tests read the code from what those servers received."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.auth.errors import DeliveryError, OtpLocked, OtpRateLimited, OtpUnavailable
from ivr.auth.otp import OtpService
from ivr.store.models import OtpCodeRow
from ivr.store.repositories.audit import AuditRepository
from tests.auth.conftest import SECRET, Rig, sms_code
from tests.customers.http_stub import Received, Reply


def actions(rig: Rig, customer_id: int) -> list[str]:
    entries = AuditRepository(rig.db).list(subject=f"customer:{customer_id}")
    return [e.action for e in reversed(entries)]


async def test_code_by_email_reaches_the_address_on_file_and_verifies(rig: Rig) -> None:
    anna = rig.people.anna

    issued = await rig.otp.issue(anna.id, actor="call:1")

    assert issued.channel == "email"  # her preferred channel
    assert issued.destination == "a***@example.test"
    recipients, message = rig.inbox.messages[-1]
    assert recipients == ["anna@example.test"]
    assert message["Subject"] == "Your verification code"
    verification = await rig.otp.verify(anna.id, rig.inbox.last_code(), actor="call:1")
    assert verification.ok
    assert actions(rig, anna.id) == ["otp.issued", "otp.sent", "otp.verified"]


async def test_code_by_sms_goes_through_the_gateway_to_the_phone_on_file(rig: Rig) -> None:
    bob = rig.people.bob

    issued = await rig.otp.issue(bob.id)

    request = rig.gateway.received[-1]
    assert (request.method, request.path) == ("POST", "/send")
    assert request.headers["authorization"] == "Bearer sms-token"
    body = request.json()
    assert body["message"]["to"] == bob.phones[0]
    assert body["from"] == "IVR"
    assert issued.channel == "sms"
    assert (await rig.otp.verify(bob.id, sms_code(rig.gateway))).ok


async def test_spoken_digits_with_spaces_verify(rig: Rig) -> None:
    await rig.otp.issue(rig.people.bob.id)
    code = sms_code(rig.gateway)

    spoken = " ".join(code[:3]) + "  " + " ".join(code[3:])
    assert (await rig.otp.verify(rig.people.bob.id, spoken)).ok


async def test_russian_customer_gets_the_message_in_russian(rig: Rig) -> None:
    await rig.otp.issue(rig.people.olga.id, "sms")
    text = rig.gateway.received[-1].json()["message"]["body"]
    assert text.startswith("Ваш код подтверждения")


async def test_wrong_code_fails_and_the_right_one_still_works_within_three_tries(
    rig: Rig,
) -> None:
    bob = rig.people.bob
    await rig.otp.issue(bob.id)
    code = sms_code(rig.gateway)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    first = await rig.otp.verify(bob.id, wrong)
    second = await rig.otp.verify(bob.id, "12")  # malformed counts as a wrong try

    assert (first.status, first.attempts_left, first.ok) == ("wrong", 2, False)
    assert (second.status, second.attempts_left) == ("wrong", 1)
    assert (await rig.otp.verify(bob.id, code)).ok


async def test_three_wrong_entries_kill_the_code_and_the_next_one_waits(rig: Rig) -> None:
    bob = rig.people.bob
    await rig.otp.issue(bob.id)
    code = sms_code(rig.gateway)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    results = [await rig.otp.verify(bob.id, wrong) for _ in range(3)]
    after = await rig.otp.verify(bob.id, code)

    assert [r.status for r in results] == ["wrong", "wrong", "locked"]
    assert (after.status, after.ok) == ("locked", False)
    with pytest.raises(OtpLocked):
        await rig.otp.issue(bob.id)
    assert actions(rig, bob.id) == [
        "otp.issued", "otp.sent", "otp.wrong", "otp.wrong", "otp.lockout",
        "otp.rejected_locked", "otp.throttled",
    ]  # fmt: skip
    rig.clock.advance(30)  # a short backoff (test_otp_throttle.py), not an hour's lockout
    await rig.otp.issue(bob.id)


async def test_expired_code_fails_closed(rig: Rig) -> None:
    bob = rig.people.bob
    await rig.otp.issue(bob.id)
    rig.clock.advance(300)

    result = await rig.otp.verify(bob.id, sms_code(rig.gateway))

    assert (result.status, result.ok) == ("expired", False)
    assert actions(rig, bob.id)[-1] == "otp.expired"


async def test_code_is_single_use(rig: Rig) -> None:
    bob = rig.people.bob
    await rig.otp.issue(bob.id)
    code = sms_code(rig.gateway)

    assert (await rig.otp.verify(bob.id, code)).ok
    reused = await rig.otp.verify(bob.id, code)

    assert (reused.status, reused.ok) == ("used", False)
    assert actions(rig, bob.id)[-1] == "otp.reused"


async def test_no_code_issued_fails_closed(rig: Rig) -> None:
    result = await rig.otp.verify(rig.people.bob.id, "123456")
    assert (result.status, result.ok) == ("no_code", False)


async def test_sixth_code_in_an_hour_is_refused_then_allowed_after_the_window(rig: Rig) -> None:
    bob = rig.people.bob
    for _ in range(5):
        await rig.otp.issue(bob.id)
        rig.clock.advance(60)

    with pytest.raises(OtpRateLimited):
        await rig.otp.issue(bob.id)
    assert len(rig.gateway.received) == 5
    assert actions(rig, bob.id)[-1] == "otp.rate_limited"
    rig.clock.advance(3600 - 5 * 60 + 1)
    await rig.otp.issue(bob.id)
    assert len(rig.gateway.received) == 6


async def test_resend_supersedes_the_old_code_on_the_same_channel(rig: Rig) -> None:
    anna = rig.people.anna
    await rig.otp.issue(anna.id, "sms")
    old = sms_code(rig.gateway)

    again = await rig.otp.resend(anna.id)
    new = sms_code(rig.gateway)

    assert again.channel == "sms"
    assert len(rig.inbox.messages) == 0
    if old != new:  # one in a million they coincide; the old one must not pass otherwise
        assert not (await rig.otp.verify(anna.id, old)).ok
    assert (await rig.otp.verify(anna.id, new)).ok
    assert "otp.resend_requested" in actions(rig, anna.id)


async def test_only_a_keyed_hash_is_stored_and_the_code_is_never_logged(rig: Rig) -> None:
    bob = rig.people.bob
    await rig.otp.issue(bob.id)
    code = sms_code(rig.gateway)
    await rig.otp.verify(bob.id, code)

    with rig.db.session() as s:
        row = s.scalars(select(OtpCodeRow)).one()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    other_key = OtpService(rig.db, "another-secret-0123456789", {})
    assert row.code_hash != other_key._hash(bob.id, code)
    assert row.code_hash == OtpService(rig.db, SECRET, {})._hash(bob.id, code)
    for entry in AuditRepository(rig.db).list(subject=f"customer:{bob.id}"):
        assert code not in repr(entry.detail)


async def test_no_contact_on_file_for_the_channel_means_unavailable(rig: Rig) -> None:
    carol = rig.people.carol  # no e-mail on file

    with pytest.raises(OtpUnavailable):
        await rig.otp.issue(carol.id, "email")
    assert rig.inbox.messages == []


async def test_gateway_failure_raises_and_is_audited(rig: Rig) -> None:
    async def broken(_: Received) -> Reply:
        return Reply(502, b"bad gateway")

    rig.gateway.handler = broken

    with pytest.raises(DeliveryError):
        await rig.otp.issue(rig.people.bob.id)
    assert actions(rig, rig.people.bob.id) == ["otp.issued", "otp.send_failed"]


async def test_smtp_server_gone_raises_delivery_error(rig: Rig) -> None:
    from ivr.auth.senders import SmtpEmailSender
    from tests.processes import free_port

    otp = OtpService(rig.db, SECRET, {"email": SmtpEmailSender("127.0.0.1", free_port(), "x@y")})
    with pytest.raises(DeliveryError):
        await otp.issue(rig.people.anna.id)


def test_ttl_over_ten_minutes_and_short_secrets_are_refused(rig: Rig) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        OtpService(rig.db, SECRET, {}, ttl_seconds=601)
    with pytest.raises(ValueError, match="16 bytes"):
        OtpService(rig.db, "short", {})
