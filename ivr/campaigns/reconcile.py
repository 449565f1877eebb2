"""After a restart (or an AMI link loss): settle attempts nobody is tracking, without redialling.

Each 'dialing' contact that is ours or whose lease expired is looked up in CoreShowChannels by
the ChannelId we sent: a live channel is followed until its Hangup; a gone one is settled from
what the attempt row says (the notify flow writes AMD and the key pressed there), as 'unknown'
when nothing is known. The contact then follows the retry rules with its NEXT attempt number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from ivr.store.domain import DialClaim
from ivr.telephony.ami_codec import Message
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
        if attempt.channel_id in live or attempt.channel_id + "-b" in live:
            log.info("adopting live call %s of contact %d", attempt.channel_id, claim.contact.id)
            await self._follow(attempt.channel_id)
        current = await self.d.db_call(self.d.repo.attempt, attempt.id)
        answered = current.amd is not None or current.response is not None
        await self.d.settle(claim, "answered" if answered else "unknown", None)

    async def _follow(self, channel_id: str) -> None:
        """Until the channel hangs up (or is no longer listed, if its Hangup was missed)."""
        gone = asyncio.Event()

        def on_hangup(msg: Message) -> None:
            if msg.get("Uniqueid") == channel_id:
                gone.set()

        unsubscribe = self.d.ami.subscribe(on_hangup, "Hangup")
        try:
            while not gone.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.d.config.lease_s / 3):
                        await gone.wait()
                    return
                with contextlib.suppress(AmiError):
                    if channel_id not in await self._live_ids():
                        return
        finally:
            unsubscribe()
