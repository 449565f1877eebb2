"""After a restart (or an AMI link loss): settle attempts nobody is tracking, without redialling.

Each 'dialing' contact that is ours or whose lease expired is looked up in CoreShowChannels by
the ChannelId we sent: a live channel is followed until its Hangup and, when our flow never had
it, settled by its OriginateResponse Reason (sent to every session, so ours too); a gone one is
settled from what the attempt row says (the notify flow writes AMD and the key pressed there),
as 'unknown' when nothing is known. The contact then follows the retry rules with its NEXT
attempt number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from ivr.store.domain import DialClaim
from ivr.telephony.ami_codec import Message
from ivr.telephony.ami_originate import HANGUP_GRACE_S, status_of
from ivr.telephony.errors import AmiError

if TYPE_CHECKING:
    from ivr.campaigns.dialer import Dialer

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, dialer: Dialer) -> None:
        self.d = dialer

    async def run(self) -> int:
        """Settle or adopt every orphaned attempt; returns how many contacts were handled."""
        handled = await self._attempts()
        await self._fallbacks()
        return handled

    async def _fallbacks(self) -> None:
        older = self.d.clock() - timedelta(seconds=self.d.config.lease_s)
        due = await self.d.db_call(self.d.repo.pending_fallbacks, older)
        for contact, campaign in due:
            sent = await self.d.notices.deliver(campaign, contact)
            await self.d.db_call(self.d.repo.set_fallback, contact.id, sent)

    async def _attempts(self) -> int:
        handled, cursor = 0, 0
        while True:
            batch = await self.d.db_call(
                self.d.repo.take_over, self.d.config.owner, self.d.clock(), self.d.config.lease_s,
                100, cursor)
            if not batch:
                return handled
            cursor = max(c.contact.id for c in batch)
            mine = self.d.inflight.keys() | self.d.claimed  # running or about to run here
            claims = [c for c in batch if c.contact.id not in mine]
            if not claims:
                continue
            try:
                live = await self._live_ids()
            except AmiError as exc:
                log.warning("cannot reconcile now (%s); will retry when AMI is back", exc)
                return handled
            for claim in claims:
                handled += 1
                self.d.track(claim, self._one(claim, live))

    async def _live_ids(self) -> set[str]:
        return {m.get("Uniqueid") or "" for m in await self.d.ami.core_show_channels()}

    async def _one(self, claim: DialClaim, live: set[str]) -> None:
        attempt = claim.attempt
        if attempt is None:
            # Notice-only contact claimed before the crash: send (at least once).
            await self.d._notice(claim)
            return
        ended = _Ending(attempt.channel_id)
        if attempt.channel_id in live or ended.callee in live:
            log.info("adopting live call %s of contact %d", attempt.channel_id, claim.contact.id)
            await self._follow(ended)
        current = await self.d.db_call(self.d.repo.attempt, attempt.id)
        if current.amd is not None or current.response is not None:
            await self.d.settle(claim, "answered", ended.cause)
        elif ended.reason is None:
            await self.d.settle(claim, "unknown", ended.cause)
        else:
            await self.d.settle(claim, status_of(ended.reason, ended.cause).value, ended.cause)

    async def _follow(self, ended: _Ending) -> None:
        """Until the channel hangs up (or is no longer listed, if its Hangup was missed), then
        a short grace for the OriginateResponse, which Asterisk sends after the Hangups."""
        unsubscribe = self.d.ami.subscribe(ended.on_event, "*")
        try:
            while not ended.gone.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.d.config.lease_s / 3):
                        await ended.gone.wait()
                    break
                with contextlib.suppress(AmiError):
                    if ended.channel_id not in await self._live_ids():
                        break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(HANGUP_GRACE_S):
                    await ended.responded.wait()
        finally:
            unsubscribe()


class _Ending:
    """What Asterisk tells every AMI session about an adopted call's end: the legs' Hangup
    causes and the OriginateResponse of the dead dialer's session. That response carries the
    dead session's ActionID, so it is matched by its Uniqueid, our ChannelId
    (traces/ami-adopt-calls-of-dead-dialer.txt)."""

    def __init__(self, channel_id: str) -> None:
        self.channel_id, self.callee = channel_id, channel_id + "-b"
        self.causes: dict[str, int] = {}
        self.reason: int | None = None
        self.gone, self.responded = asyncio.Event(), asyncio.Event()

    @property
    def cause(self) -> int | None:
        """The callee leg's cause when non-zero, else ours (as for a call we placed)."""
        return self.causes.get(self.callee) or self.causes.get(self.channel_id)

    def on_event(self, msg: Message) -> None:
        uid = msg.get("Uniqueid")
        if msg.name == "OriginateResponse" and uid == self.channel_id:
            self.reason = int(msg.get("Reason", "0") or 0)
            self.responded.set()
        elif msg.name == "Hangup" and uid in (self.channel_id, self.callee):
            self.causes[uid] = int(msg.get("Cause", "0") or 0)
            if uid == self.channel_id:
                self.gone.set()
