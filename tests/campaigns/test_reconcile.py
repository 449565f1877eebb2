"""Reconciliation: a call still up when its dialer restarts (or its AMI link drops) is found in
CoreShowChannels and followed to its end, never dialled again."""

from __future__ import annotations

import pytest

from ivr.store.models import now_utc
from ivr.store.repositories.dialing import DialingRepository
from ivr.telephony.emulator.agi_caller import Pause, PressWhenAsked
from tests.campaigns.conftest import Pbx
from tests.campaigns.helpers import contacts, make_campaign, until
from tests.campaigns.test_dialer import attempts_of, finished, number, outcomes

SLOW_PERSON = [Pause(1500), PressWhenAsked("1")]  # listens a while, then confirms


@pytest.fixture
def confirm_timeout() -> float:
    return 5.0


def answered(pbx: Pbx) -> bool:
    return any(a.amd == "human" for a in DialingRepository(pbx.db).open_attempts())


async def test_restarted_dialer_adopts_a_live_call_instead_of_redialling(pbx: Pbx) -> None:
    pbx.people = {number(1): SLOW_PERSON}
    campaign = make_campaign(pbx.db, contacts=contacts(1), now=now_utc())
    first = await pbx.dialer("d1")
    await first.start()
    await until(lambda: answered(pbx))
    await first.stop()  # the call goes on without anybody tracking it
    second = await pbx.dialer("d1")
    await second.start()
    try:
        await until(lambda: finished(pbx, campaign.id))
    finally:
        await second.stop()
    assert len(pbx.originates()) == 1
    assert pbx.ami.actions("CoreShowChannels")
    (result,) = outcomes(pbx, campaign.id).values()
    assert result == ("done", "confirmed", None)


async def test_ami_link_lost_mid_call_is_reconciled_after_reconnect(pbx: Pbx) -> None:
    pbx.people = {number(1): SLOW_PERSON}
    campaign = make_campaign(pbx.db, contacts=contacts(1), now=now_utc())
    dialer = await pbx.dialer("d1")
    await dialer.start()
    try:
        await until(lambda: answered(pbx))
        pbx.ami.drop_connections()  # LINK_LOST for the handle; the call itself goes on
        await until(lambda: finished(pbx, campaign.id))
    finally:
        await dialer.stop()
    assert len(pbx.originates()) == 1
    (result,) = outcomes(pbx, campaign.id).values()
    assert result == ("done", "confirmed", None)


async def test_an_adopted_call_that_rings_out_is_stored_no_answer_not_unknown(pbx: Pbx) -> None:
    """Asterisk sends the dead session's OriginateResponse (Reason 3, Uniqueid = our ChannelId,
    its ActionID unknown to us) to the restarted dialer's session too
    (traces/ami-adopt-calls-of-dead-dialer.txt): the adopted call ends as no-answer."""
    pbx.ami.script(number(1), "no-answer")
    campaign = make_campaign(pbx.db, contacts=contacts(1), max_attempts=1, now=now_utc())
    first = await pbx.dialer("d1", originate_timeout_ms=40_000)  # 2 s at the emulator's scale
    await first.start()
    await pbx.ami.wait_for_action("Originate", 2)  # the rights probe, then the call
    await first.stop()  # ringing, tracked by nobody
    second = await pbx.dialer("d1")
    await second.start()
    try:
        await until(lambda: finished(pbx, campaign.id))
    finally:
        await second.stop()
    assert len(pbx.originates()) == 1
    (attempt,) = attempts_of(pbx, campaign.id)
    assert attempt.outcome == "no-answer"
    (result,) = outcomes(pbx, campaign.id).values()
    assert result[:2] == ("failed", "no-answer")
