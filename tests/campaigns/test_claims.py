"""The contact state machine in the database: claims, leases, DNC, caps, take-over (both DBs)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from ivr.campaigns.scheduler import contact_window
from ivr.store.db import Database
from ivr.store.domain import NewContact
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.dialing import DialingRepository
from tests.campaigns.helpers import NOON_UTC, contacts, make_campaign, phone

LEASE = 60.0


def claim(db: Database, owner: str = "d1", limit: int = 10, now=NOON_UTC):  # type: ignore[no-untyped-def]
    return DialingRepository(db).claim(owner, now, limit, LEASE, contact_window)


def test_claim_commits_an_originating_attempt_with_its_channel_id(db: Database) -> None:
    make_campaign(db, contacts=contacts(3))
    got = claim(db)
    assert len(got) == 3
    attempts = DialingRepository(db).open_attempts()
    assert {a.channel_id for a in attempts} == {c.attempt.channel_id for c in got if c.attempt}
    assert {a.state for a in attempts} == {"originating"}
    assert all(c.contact.state == "dialing" and c.contact.attempts == 1 for c in got)
    assert claim(db) == []  # nothing left to claim: every contact is leased


def test_draft_and_paused_campaigns_are_not_dialled(db: Database) -> None:
    make_campaign(db, "draft", contacts=contacts(2), state="draft")
    make_campaign(db, "paused", contacts=contacts(2, 10), state="paused")
    assert claim(db) == []


def test_claim_respects_campaign_channel_limit_and_batch(db: Database) -> None:
    make_campaign(db, contacts=contacts(10), max_channels=4)
    assert len(claim(db, limit=3)) == 3
    assert len(claim(db, limit=3)) == 1  # 4 channels in use now


def test_outside_the_window_the_contact_is_deferred_to_its_local_morning(db: Database) -> None:
    make_campaign(db, contacts=[NewContact(phone=phone(1), time_zone="Asia/Tokyo")],
                  window_start=8 * 60, window_end=21 * 60)
    # 12:00 UTC is 21:00 in Tokyo: closed; next opening 08:00 JST = 23:00 UTC.
    assert claim(db) == []
    row = CampaignRepository(db).contacts(1)[0]
    assert row.state == "pending" and row.next_at == NOON_UTC.replace(hour=23)
    assert len(claim(db, now=NOON_UTC.replace(hour=23))) == 1


def test_do_not_call_is_checked_at_dial_time(db: Database) -> None:
    campaign = make_campaign(db, contacts=contacts(2))
    CampaignRepository(db).add_dnc(phone(1), "test")  # after import, before dialing
    got = claim(db)
    assert [c.contact.phone for c in got] == [phone(2)]
    states = {c.phone: (c.state, c.result) for c in CampaignRepository(db).contacts(campaign.id)}
    assert states[phone(1)] == ("cancelled", "dnc")


def test_per_recipient_cap_spans_campaigns(db: Database) -> None:
    for i in range(3):
        make_campaign(db, f"c{i}", contacts=[NewContact(phone=phone(1))], daily_cap=2)
    repo = DialingRepository(db)
    first = claim(db)
    assert len(first) == 2  # the third campaign's call would be the third in 24 h
    later = repo.claim("d1", NOON_UTC + timedelta(hours=24, seconds=1), 10, LEASE,
                       contact_window)
    assert len(later) == 1


def test_settle_needs_the_lease(db: Database) -> None:
    make_campaign(db, contacts=contacts(1))
    (c,) = claim(db, owner="d1")
    assert c.attempt is not None
    repo = DialingRepository(db)
    assert not repo.settle(c.contact.id, "intruder", attempt_id=c.attempt.id, outcome="busy",
                           hangup_cause=17, state="pending", result=None, next_at=NOON_UTC,
                           now=NOON_UTC)
    assert repo.settle(c.contact.id, "d1", attempt_id=c.attempt.id, outcome="busy",
                       hangup_cause=17, state="pending", result=None, next_at=NOON_UTC,
                       now=NOON_UTC)
    (again,) = claim(db)
    assert again.attempt is not None and again.attempt.attempt_no == 2


def test_take_over_returns_own_and_expired_leases_only(db: Database) -> None:
    make_campaign(db, contacts=contacts(2))
    claim(db, owner="alive", limit=1)
    claim(db, owner="dead", limit=1)
    repo = DialingRepository(db)
    assert repo.take_over("me", NOON_UTC, LEASE) == []
    mine = repo.take_over("dead", NOON_UTC, LEASE)
    assert len(mine) == 1 and mine[0].attempt is not None
    expired = repo.take_over("me", NOON_UTC + timedelta(seconds=LEASE + 1), LEASE)
    assert len(expired) == 2  # both leases ran out by then


@pytest.mark.postgres
def test_concurrent_claimers_on_postgres_never_share_a_contact(pg_url: str) -> None:
    from tests.conftest import _truncate_all

    db = Database(pg_url)
    _truncate_all(db)
    make_campaign(db, contacts=contacts(200), max_channels=1000)
    got: dict[str, list[int]] = {f"d{i}": [] for i in range(4)}

    def worker(owner: str) -> None:
        while batch := claim(db, owner=owner, limit=7):
            got[owner] += [c.contact.id for c in batch]

    threads = [threading.Thread(target=worker, args=(o,)) for o in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everyone = [cid for ids in got.values() for cid in ids]
    assert len(everyone) == len(set(everyone)) == 200
    assert sum(1 for ids in got.values() if ids) >= 2
    db.dispose()


def test_a_final_failure_leaves_the_fallback_pending_until_sent(db: Database) -> None:
    make_campaign(db, contacts=contacts(1))
    (c,) = claim(db)
    assert c.attempt is not None
    repo = DialingRepository(db)
    state = repo.settle_decided(c.contact.id, "d1", c.attempt.id, "busy", 17, NOON_UTC,
                                lambda *_: ("failed", "busy", NOON_UTC))
    assert state == "failed"
    later = NOON_UTC + timedelta(minutes=5)
    (pending,) = repo.pending_fallbacks(later)
    assert pending[0].id == c.contact.id and pending[0].fallback == "pending"
    repo.set_fallback(c.contact.id, "sms")
    assert repo.pending_fallbacks(later) == []
