"""The dialer against the AMI emulator over a socket, with the notify flow on real FastAGI."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ivr.campaigns import reports
from ivr.store.domain import CallAttempt, NewContact
from ivr.store.models import now_utc
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.dialing import DialingRepository
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from tests.campaigns.conftest import Pbx
from tests.campaigns.helpers import contacts, make_campaign, phone, until


def number(i: int) -> str:
    return phone(i).lstrip("+")


def finished(pbx: Pbx, campaign_id: int) -> bool:
    """No contact left to call and every fallback notice sent."""
    repo = CampaignRepository(pbx.db)
    progress = repo.progress(campaign_id)
    if progress["pending"] + progress["dialing"]:
        return False
    return all(c.fallback != "pending" for c in repo.contacts(campaign_id, limit=100_000))


def attempts_of(pbx: Pbx, campaign_id: int) -> list[CallAttempt]:
    from sqlalchemy import select

    from ivr.store.models import CallAttemptRow
    from ivr.store.repositories.dialing import to_attempt

    with pbx.db.session() as s:
        rows = s.scalars(select(CallAttemptRow).where(CallAttemptRow.campaign_id == campaign_id))
        return [to_attempt(r) for r in rows]


def outcomes(pbx: Pbx, campaign_id: int) -> dict[str, tuple[str, str | None, str | None]]:
    rows = CampaignRepository(pbx.db).contacts(campaign_id)
    return {c.phone: (c.state, c.result, c.fallback) for c in rows}


async def run_campaign(pbx: Pbx, campaign_id: int, **config: object) -> None:
    dialer = await pbx.dialer(**config)
    await dialer.start()
    try:
        await until(lambda: finished(pbx, campaign_id), timeout=20)
    finally:
        await dialer.stop()


async def test_each_outcome_ends_where_it_should(pbx: Pbx) -> None:
    for i, outcome in [(1, "busy"), (2, "congestion"), (3, "no-answer"), (4, "rejected"),
                       (9, "machine")]:
        pbx.ami.script(number(i), outcome)
    pbx.people = {number(5): [PressWhenAsked("1")], number(6): [PressWhenAsked("2")],
                  number(7): [PressWhenAsked("9")]}  # 8: answers and presses nothing
    campaign = make_campaign(pbx.db, contacts=contacts(9), max_attempts=1, now=now_utc())

    await run_campaign(pbx, campaign.id)

    got = outcomes(pbx, campaign.id)
    assert got == {
        phone(1): ("failed", "busy", "sms"), phone(2): ("failed", "congestion", "sms"),
        phone(3): ("failed", "no-answer", "sms"), phone(4): ("failed", "rejected", "sms"),
        phone(5): ("done", "confirmed", None), phone(6): ("done", "reached", None),
        phone(7): ("done", "opted-out", None), phone(8): ("done", "reached", None),
        phone(9): ("done", "machine", None),
    }
    assert CampaignRepository(pbx.db).is_dnc(phone(7))
    assert sorted(d for d, _, _ in pbx.sms.sent) == [phone(i) for i in range(1, 5)]
    assert len(pbx.originates()) == 9 == len(set(pbx.originates()))
    totals = reports.build(pbx.db, "c1").to_json()["totals"]
    assert totals == {
        "attempted": 9, "reached": 4, "confirmed": 1, "machine": 1, "busy_no_answer": 2,
        "failed": 2, "opted_out": 1, "fallback_sent": 4, "answered": 5, "abandoned": 0,
        "reach_rate": 0.4444, "abandoned_rate": 0.0}


async def test_busy_is_retried_until_attempts_run_out_then_fallback_once(pbx: Pbx) -> None:
    pbx.ami.script(number(1), "busy")
    email = NewContact(phone=phone(1), name="Ann", email="ann@example.com")
    campaign = make_campaign(pbx.db, contacts=[email], max_attempts=3, now=now_utc())

    await run_campaign(pbx, campaign.id)

    assert len(pbx.originates()) == 3 == len(set(pbx.originates()))
    assert outcomes(pbx, campaign.id)[phone(1)] == ("failed", "busy", "email")
    assert pbx.email.sent == [("ann@example.com", "c1", "Hello Ann")] and pbx.sms.sent == []


async def test_machine_then_person_confirms_on_the_second_attempt(pbx: Pbx) -> None:
    pbx.ami.script(number(1), "machine")
    pbx.people = {number(1): [PressWhenAsked("1")]}
    campaign = make_campaign(pbx.db, contacts=contacts(1), max_attempts=3, now=now_utc())
    dialer = await pbx.dialer()
    await dialer.start()
    try:
        await until(lambda: pbx.placed())
        pbx.ami.script(number(1), "answer")  # a person picks up next time
        await until(lambda: finished(pbx, campaign.id))
    finally:
        await dialer.stop()
    assert outcomes(pbx, campaign.id)[phone(1)] == ("done", "confirmed", None)
    assert len(pbx.originates()) == 2


async def test_contact_preferring_sms_gets_no_call(pbx: Pbx) -> None:
    campaign = make_campaign(pbx.db, contacts=[NewContact(phone=phone(1), channel="sms")],
                             now=now_utc())
    await run_campaign(pbx, campaign.id)
    assert pbx.originates() == []
    assert outcomes(pbx, campaign.id)[phone(1)] == ("done", "sms", "sms")


async def test_ami_down_pauses_with_a_reason_and_resumes_by_itself(pbx: Pbx) -> None:
    later = now_utc() + timedelta(days=1)  # contacts not due yet: the campaign idles running
    campaign = make_campaign(pbx.db, contacts=contacts(1), now=later)
    repo = CampaignRepository(pbx.db)
    dialer = await pbx.dialer()
    await dialer.start()
    try:
        await pbx.ami.stop()
        await until(lambda: repo.get("c1").state == "paused")
        paused = repo.get("c1")
        assert paused.paused_by == "system" and "AMI link down" in (paused.pause_reason or "")
        await pbx.ami.start()
        await until(lambda: repo.get("c1").state == "running")
        assert repo.get("c1").pause_reason is None
    finally:
        await dialer.stop()
    assert campaign.state == "running"


async def test_user_pause_survives_ami_recovery(pbx: Pbx) -> None:
    make_campaign(pbx.db, "mine", contacts=contacts(1), now=now_utc() + timedelta(days=1))
    repo = CampaignRepository(pbx.db)
    repo.set_state("mine", "paused", reason="holiday")
    dialer = await pbx.dialer()
    await dialer.start()
    try:
        await pbx.ami.stop()
        await pbx.ami.start()
        await until(lambda: dialer.ami.connections >= 2)
    finally:
        await dialer.stop()
    assert (repo.get("mine").state, repo.get("mine").pause_reason) == ("paused", "holiday")


async def test_two_dialers_share_a_campaign_without_double_dialing(pbx: Pbx) -> None:
    campaign = make_campaign(pbx.db, contacts=contacts(60), max_attempts=1, now=now_utc())
    for i in range(1, 61, 2):
        pbx.ami.script(number(i), "busy")
    pbx.people = {number(i): [PressWhenAsked("1")] for i in range(2, 61, 2)}
    one, two = await pbx.dialer("d1", batch_size=3), await pbx.dialer("d2", batch_size=3)
    await one.start()
    await two.start()
    try:
        await until(lambda: finished(pbx, campaign.id), timeout=30)
    finally:
        await one.stop()
        await two.stop()
    dialled = [m.get("Channel") for m in pbx.placed()]
    assert len(dialled) == 60 == len(set(dialled))
    assert DialingRepository(pbx.db).open_attempts() == []
    owners = {a.dialer for a in attempts_of(pbx, campaign.id)}
    assert owners == {"d1", "d2"}


async def test_contacts_waiting_for_the_pacer_are_not_taken_over_by_the_reconciler(
    pbx: Pbx,
) -> None:
    # Short leases renew (and reconcile) every 0.2 s while a batch waits on a slow pacer: the
    # reconciler must leave this dialer's own waiting claims alone, or it settles them as
    # "unknown" (never called) and the loop then dials them anyway.
    pbx.ami.script("1555*", "busy")
    campaign = make_campaign(pbx.db, contacts=contacts(10), max_attempts=1,
                             calls_per_second=4.0, now=now_utc())
    await run_campaign(pbx, campaign.id, lease_s=0.6, batch_size=5)

    assert sorted(pbx.originates()) == sorted(set(pbx.originates()))
    assert len(pbx.originates()) == 10
    results = outcomes(pbx, campaign.id)
    assert {result for _, result, _ in results.values()} == {"busy"}


async def test_stop_returns_even_when_woken_as_it_is_cancelled(pbx: Pbx) -> None:
    # A finished call wakes the loop just as stop() cancels it; on Python 3.11 wait_for
    # swallowed that cancellation and stop() hung. Try the cancel at each point of the wake-up.
    for ticks in range(6):
        dialer = await pbx.dialer(poll_s=30.0)
        await dialer.start()
        await asyncio.sleep(0.1)  # the loop is idle, waiting to be woken
        dialer.wake()
        for _ in range(ticks):
            await asyncio.sleep(0)
        await asyncio.wait_for(dialer.stop(), 5.0)
