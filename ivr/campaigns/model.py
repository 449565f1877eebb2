"""What an attempt's outcome means for its contact (retry, done, failed) and the message text.

Pure functions: the dialer and the reconciler both decide through `decide`, so a call settled
after a restart ends exactly where it would have ended without the crash.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from ivr.store.domain import Campaign, CampaignContact

# Attempt outcomes (call_attempts.outcome): the originate statuses plus "unknown" for an attempt
# whose result was lost with its dialer or its AMI link.
RETRYABLE = {"busy": "busy", "no-answer": "no-answer", "congestion": "congestion"}
FAILED = ("rejected", "unavailable", "failed", "refused")
# Responses the notification flow records (call_attempts.response).
CONFIRMED, CALLBACK, OPTED_OUT, NO_RESPONSE = "confirmed", "callback", "opted-out", "none"
KEY_RESPONSES = {"1": CONFIRMED, "2": CALLBACK, "9": OPTED_OUT}


@dataclass(frozen=True)
class Decision:
    state: str  # pending (retry), done or failed
    result: str | None
    retry_after_s: int | None = None

    def next_at(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.retry_after_s or 0)


def _retry_or(campaign: Campaign, contact: CampaignContact, key: str, final: Decision
              ) -> Decision:
    if contact.attempts < campaign.max_attempts:
        return Decision("pending", None, campaign.retry_after(key))
    return final


def decide(campaign: Campaign, contact: CampaignContact, outcome: str, amd: str | None,
           response: str | None) -> Decision:
    """The contact's next state after an attempt (contact.attempts counts this attempt)."""
    if outcome == "answered":
        return _answered(campaign, contact, amd, response)
    if outcome in RETRYABLE:
        return _retry_or(campaign, contact, outcome, Decision("failed", outcome))
    key = "unknown" if outcome == "unknown" else "failed"
    return _retry_or(campaign, contact, key, Decision("failed", outcome))


def _answered(campaign: Campaign, contact: CampaignContact, amd: str | None,
              response: str | None) -> Decision:
    if response == OPTED_OUT:
        return Decision("done", OPTED_OUT)
    if response == CONFIRMED:
        return Decision("done", CONFIRMED)
    if response == CALLBACK:
        return _retry_or(campaign, contact, "callback", Decision("done", "reached"))
    if amd == "machine":
        return _retry_or(campaign, contact, "machine", Decision("done", "machine"))
    if amd is None:
        # Answered, yet our flow never got the call: an abandoned call, tried again.
        return _retry_or(campaign, contact, "failed", Decision("failed", "abandoned"))
    return Decision("done", "reached")


def render(template: str, contact: CampaignContact) -> str:
    """The campaign's message for one contact: $name, $forecast... from its variables.
    Unknown placeholders stay as written rather than failing a whole campaign."""
    values = {"name": contact.name, "phone": contact.phone, **contact.variables}
    return string.Template(template).safe_substitute(values)


def notice_subject(campaign: Campaign) -> str:
    return {"bill-forecast": "Your bill forecast", "outage": "Service outage"}.get(
        campaign.kind, campaign.name)
