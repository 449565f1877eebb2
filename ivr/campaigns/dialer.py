"""The dialer: claims due contacts in small batches, paces, originates, settles each attempt.

State before side effects: `claim` commits the attempt as 'originating' (with the ChannelId we
will send) before the Originate goes out, so after a crash the attempt is reconciled against
Asterisk (`reconcile.py`) and never dialled again. AMI down -> every running campaign is
paused with the reason; when the link is back they resume by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from ivr import metrics
from ivr.campaigns.ami_rights import check_rights
from ivr.campaigns.fallback import NoticeSenders
from ivr.campaigns.model import decide
from ivr.campaigns.notify_flow import ATTEMPT_VAR
from ivr.campaigns.pacing import Pacers
from ivr.campaigns.reconcile import Reconciler
from ivr.campaigns.scheduler import contact_window
from ivr.store.db import Database
from ivr.store.domain import Campaign, CampaignContact, DialClaim
from ivr.store.models import now_utc
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.dialing import DialingRepository
from ivr.telephony.ami import AmiClient
from ivr.telephony.ami_originate import OriginateStatus
from ivr.telephony.errors import AmiConnectionError, AmiError

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
T = TypeVar("T")


@dataclass
class DialerConfig:
    owner: str = socket.gethostname()[:48]  # names this dialer's leases; unique per process
    # {number}: the E.164 number without '+'; [ivr-outbound] of asterisk/extensions_ivr.conf
    dial_string: str = "Local/{number}@ivr-outbound"
    context: str = "ivr-notify"  # its `s` runs AMD() then AGI(agi://.../notify)
    exten: str = "s"
    caller_id: str | None = None
    originate_timeout_ms: int = 30000
    max_channels: int = 30  # per dialer, i.e. per Asterisk server / trunk
    calls_per_second: float = 10.0
    batch_size: int = 20
    lease_s: float = 120.0
    poll_s: float = 1.0


class Dialer:
    def __init__(self, db: Database, ami: AmiClient, config: DialerConfig | None = None, *,
                 notices: NoticeSenders | None = None, clock: Clock = now_utc) -> None:
        self.db, self.ami = db, ami
        self.config = config or DialerConfig()
        self.notices = notices or NoticeSenders()
        self.clock = clock
        self.repo = DialingRepository(db)
        self.campaigns = CampaignRepository(db)
        self.pacers = Pacers(self.config.calls_per_second)
        self.inflight: dict[int, asyncio.Task[None]] = {}  # contact id -> its task
        # Claimed by this loop but still waiting for the pacer: ours, though no task runs yet,
        # so the reconciler must not take them over and their leases must be renewed.
        self.claimed: set[int] = set()
        self.reconciler = Reconciler(self)
        # One thread for all of this dialer's DB work: on SQLite, writers from several threads
        # only queue on the file lock (busy-wait back-off), which costs far more than a queue.
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dialer-db")
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="dialer")
        self._heartbeat = asyncio.create_task(self._renew_leases(), name="dialer-leases")

    async def stop(self) -> None:
        """Stop claiming and stop tracking calls. Attempts in flight stay 'originating' or
        'answered' under our lease: the next start reconciles them instead of redialling."""
        tasks = [t for t in (self._task, self._heartbeat) if t is not None]
        tasks += list(self.inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)  # unlike `await task`, keeps a cancellation of stop() itself
        for loop_task in (self._task, self._heartbeat):
            if loop_task and not loop_task.cancelled() and loop_task.exception() is not None:
                log.error("%s had failed", loop_task.get_name(), exc_info=loop_task.exception())
        self._task = self._heartbeat = None

    async def db_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db_thread, functools.partial(fn, *args, **kwargs))

    def wake(self) -> None:
        """New contacts were added: claim now instead of at the next poll."""
        self._wake.set()

    # -- main loop ------------------------------------------------------------------------
    async def run(self) -> None:
        if self.ami.connections == 0:
            await self._first_connect()
        await check_rights(self.ami)
        await self.reconciler.run()
        while True:
            if not self.ami.connected:
                await self._ami_down()
                continue
            room = self.config.max_channels - len(self.inflight)
            if room <= 0:
                await self._idle()
                continue
            claims = await self.db_call(
                self.repo.claim, self.config.owner, self.clock(),
                min(room, self.config.batch_size), self.config.lease_s, contact_window)
            if not claims:
                await self._idle()
                continue
            self.claimed = {claim.contact.id for claim in claims}
            for claim in claims:
                if claim.attempt is not None:
                    await self.pacers.wait(claim.campaign.id, claim.campaign.calls_per_second)
                self.track(claim, self._dial(claim) if claim.attempt else self._notice(claim))
                self.claimed.discard(claim.contact.id)

    def track(self, claim: DialClaim, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        cid = claim.contact.id
        self.inflight[cid] = task

        def done(t: asyncio.Task[None]) -> None:
            if self.inflight.get(cid) is t:
                del self.inflight[cid]
            self._wake.set()
            if not t.cancelled() and t.exception() is not None:
                log.error("dialer task for contact %d failed", cid, exc_info=t.exception())

        task.add_done_callback(done)

    async def _idle(self) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
        # arrives as the event is set, and stop() then waited for this loop forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.config.poll_s):
                await self._wake.wait()
        self._wake.clear()

    async def _first_connect(self) -> None:
        delay = 0.5
        while True:
            try:
                await self.ami.connect()
                return
            except AmiError as exc:
                await self.db_call(self.campaigns.system_pause, f"AMI unreachable: {exc}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _ami_down(self) -> None:
        since = self.clock().strftime("%Y-%m-%d %H:%M:%S UTC")
        paused = await self.db_call(
            self.campaigns.system_pause, f"AMI link down since {since}; resumes by itself")
        log.warning("AMI link down: paused %s", ", ".join(paused) or "no campaign")
        await self.ami.wait_connected()
        resumed = await self.db_call(self.campaigns.system_resume)
        log.info("AMI link back: resumed %s", ", ".join(resumed) or "no campaign")
        await self.reconciler.run()

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_s / 3)
            until = self.clock() + timedelta(seconds=self.config.lease_s)
            await self.db_call(self.repo.renew, self.config.owner,
                               [*self.inflight, *self.claimed], until)
            if self.ami.connected:
                await self.reconciler.run()  # contacts of dialers that died (expired leases)

    # -- one contact ----------------------------------------------------------------------
    async def _dial(self, claim: DialClaim) -> None:
        attempt, contact = claim.attempt, claim.contact
        assert attempt is not None
        channel = self.config.dial_string.format(number=contact.phone.lstrip("+"))
        try:
            handle = await self.ami.originate(
                channel, context=self.config.context, exten=self.config.exten,
                caller_id=self.config.caller_id, timeout_ms=self.config.originate_timeout_ms,
                variables={ATTEMPT_VAR: attempt.channel_id, "IVR_CAMPAIGN": str(claim.campaign.id)},
                channel_id=attempt.channel_id, other_channel_id=attempt.channel_id + "-b")
        except AmiConnectionError:
            # Nothing was written to Asterisk: the attempt does not count; call again soon.
            await self.db_call(
                self.repo.settle, contact.id, self.config.owner, attempt_id=attempt.id,
                outcome="unsent", hangup_cause=None, state="pending", result=None,
                next_at=self.clock(), now=self.clock(), refund=True)
            return
        metrics.ORIGINATES.inc()
        outcome = await handle.outcome()
        metrics.DIAL_OUTCOMES.labels(outcome.status.value).inc()
        if outcome.status is OriginateStatus.REFUSED:
            # Asterisk said no before dialling: a config matter (dialplan, AMI user), not the
            # customer's; say why, or every attempt ends 'refused' in silence.
            log.error("Asterisk refused the Originate of %s to %s@%s: %s", channel,
                      self.config.exten, self.config.context, outcome.message)
        if outcome.status is OriginateStatus.LINK_LOST:
            return  # unknown whether it rang: reconciled when the link is back
        if outcome.answered:
            await self.db_call(self.repo.mark_answered, attempt.id, self.clock())
            if await handle.ended() is None:
                return  # link lost mid-call: reconciled later
        await self.settle(claim, outcome.status.value, outcome.hangup_cause)

    async def settle(self, claim: DialClaim, outcome: str, cause: int | None) -> None:
        """Write the attempt's end and the contact's next state; the fallback on final failure.
        An attempt our flow ran on counts as answered, whatever the AMI said."""
        assert claim.attempt is not None
        now = self.clock()

        def decider(campaign: Campaign, contact: CampaignContact, outcome: str,
                    amd: str | None, response: str | None) -> tuple[str, str | None, datetime]:
            d = decide(campaign, contact, "answered" if amd else outcome, amd, response)
            return d.state, d.result, d.next_at(now)

        state = await self.db_call(self.repo.settle_decided, claim.contact.id, self.config.owner,
                                   claim.attempt.id, outcome, cause, now, decider)
        if state == "failed":
            sent = await self.notices.deliver(claim.campaign, claim.contact)
            await self.db_call(self.repo.set_fallback, claim.contact.id, sent)

    async def _notice(self, claim: DialClaim) -> None:
        """A contact who prefers SMS/e-mail: no call, the notice goes by their channel."""
        sent = await self.notices.deliver(claim.campaign, claim.contact)
        now = self.clock()
        state = "done" if sent in ("sms", "email") else "failed"
        await self.db_call(
            self.repo.settle, claim.contact.id, self.config.owner, attempt_id=None,
            outcome=None, hangup_cause=None, state=state, result=sent, next_at=now, now=now,
            fallback=sent)
