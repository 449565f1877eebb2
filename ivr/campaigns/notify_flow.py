"""The answered leg of a notification call (FastAGI script `notify`).

The dialplan runs AMD() before AGI(agi://.../notify), so AMDSTATUS is set: a machine gets the
message after the beep; a person hears it and is asked to confirm (1 heard, 2 call me later,
9 stop these calls -> do-not-call list). What happened is written on the attempt row, where the
dialer (or, after a crash, the reconciler) reads it.
"""

from __future__ import annotations

import asyncio
import logging

from ivr.call.errors import FeatureUnavailable
from ivr.call.media import MediaPath
from ivr.call.session import AgiLink, Call
from ivr.campaigns.model import KEY_RESPONSES, NO_RESPONSE, OPTED_OUT, render
from ivr.store.db import Database
from ivr.store.domain import Campaign, CampaignContact
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.dialing import DialingRepository

log = logging.getLogger(__name__)
SCRIPT = "notify"
ATTEMPT_VAR = "IVR_CHANNEL_ID"  # set by the dialer on the Originate, read back here
CONFIRM_PROMPT = "ivr/notify-confirm"
GOODBYE_PROMPT = "ivr/goodbye"
OPTED_OUT_PROMPT = "ivr/notify-opted-out"


class NotifyFlow:
    """`await NotifyFlow(db).handle(link)` for every FastAGI call whose script is `notify`."""

    def __init__(self, db: Database, *, confirm_timeout: float = 5.0, tries: int = 2,
                 media: MediaPath | None = None) -> None:
        self._media = media  # with it the message is spoken (TTS over AudioSocket)
        self._dialing = DialingRepository(db)
        self._campaigns = CampaignRepository(db)
        self.confirm_timeout = confirm_timeout
        self.tries = tries

    async def handle(self, link: AgiLink) -> None:
        call = Call(link, media=self._media)
        channel_id = await call.get_var(ATTEMPT_VAR) or link.env.uniqueid
        found = await asyncio.to_thread(self._dialing.for_channel, channel_id)
        if found is None:
            log.warning("notify call %s: no attempt for channel id %r", call.channel, channel_id)
            await call.hangup()
            return
        campaign, contact, _ = found
        amd = "machine" if (await call.get_var("AMDSTATUS") or "").upper() == "MACHINE" else "human"
        await asyncio.to_thread(self._dialing.record_flow, channel_id, amd=amd)
        await self._speak(call, campaign, contact)
        if amd == "machine":
            await call.hangup()
            return
        response = await self._confirm(call)
        await asyncio.to_thread(self._dialing.record_flow, channel_id, response=response)
        if response == OPTED_OUT:
            await asyncio.to_thread(self._campaigns.add_dnc, contact.phone,
                                    f"campaign:{campaign.name}")
        await call.play(OPTED_OUT_PROMPT if response == OPTED_OUT else GOODBYE_PROMPT)
        await call.hangup()

    async def _speak(self, call: Call, campaign: Campaign, contact: CampaignContact) -> None:
        text = render(campaign.message, contact)
        try:
            await call.say(text)
            return
        except FeatureUnavailable:
            pass  # no text-to-speech here: the campaign's recorded prompts carry the message
        for prompt in campaign.prompts or (f"ivr/notify-{campaign.kind}",):
            await call.play(prompt)

    async def _confirm(self, call: Call) -> str:
        for _ in range(self.tries):
            got = await call.gather(prompt=CONFIRM_PROMPT, max_digits=1,
                                    timeout=self.confirm_timeout)
            if got.digits in KEY_RESPONSES:
                return KEY_RESPONSES[got.digits]
        return NO_RESPONSE
