"""The notice by SMS or e-mail: after the final failed voice attempt, or for contacts who prefer
it. Uses the senders of the auth package (any object with `send(destination, subject, text)`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from ivr.campaigns.model import notice_subject, render
from ivr.store.domain import Campaign, CampaignContact

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def send(self, destination: str, subject: str, text: str) -> None: ...


@dataclass
class NoticeSenders:
    sms: Sender | None = None
    email: Sender | None = None

    def order(self, contact: CampaignContact) -> list[tuple[str, Sender, str]]:
        """(channel, sender, destination) to try, the contact's preference first."""
        options: list[tuple[str, Sender, str]] = []
        if self.email is not None and contact.email:
            options.append(("email", self.email, contact.email))
        if self.sms is not None:
            options.append(("sms", self.sms, contact.phone))
        if contact.channel == "sms":
            options.sort(key=lambda o: o[0] != "sms")
        return options

    async def deliver(self, campaign: Campaign, contact: CampaignContact) -> str:
        """The channel that took the notice, 'none' (no sender fits) or 'error'."""
        options = self.order(contact)
        if not options:
            return "none"
        text = render(campaign.message, contact)
        for channel, sender, destination in options:
            try:
                await sender.send(destination, notice_subject(campaign), text)
                return channel
            except Exception as exc:  # a sender's failure must never stop the dialer
                log.warning("fallback %s to contact %d failed: %s", channel, contact.id, exc)
        return "error"
