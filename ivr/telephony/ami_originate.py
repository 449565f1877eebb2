"""Originate outcomes: correlate OriginateResponse (by ActionID) and the legs' Hangup events
(by the ChannelId/OtherChannelId we chose, which become the legs' Uniqueids).

Asterisk reports a failed originate with ``Uniqueid: <unknown>``, so the Uniqueid of the
OriginateResponse is never used to match.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from ivr.telephony.ami_codec import Message

# How long to wait, after a failed OriginateResponse, for the Hangup events that carry the cause.
HANGUP_GRACE_S = 2.0


class OriginateStatus(StrEnum):
    ANSWERED = "answered"  # Reason 4
    BUSY = "busy"  # Reason 5
    CONGESTION = "congestion"  # Reason 8
    NO_ANSWER = "no-answer"  # Reason 3 (Timeout reached)
    REJECTED = "rejected"  # Reason 0 with hangup cause 21 (Call Rejected)
    UNAVAILABLE = "unavailable"  # Reason 0 with hangup cause 20 (Subscriber absent)
    FAILED = "failed"  # Reason 0 otherwise (no such extension, unknown technology...)
    REFUSED = "refused"  # Response: Error to the action itself; no call was made
    LINK_LOST = "link-lost"  # the AMI link dropped before the outcome; never retried


_BY_REASON = {4: OriginateStatus.ANSWERED, 5: OriginateStatus.BUSY,
              8: OriginateStatus.CONGESTION, 3: OriginateStatus.NO_ANSWER}
_BY_CAUSE = {21: OriginateStatus.REJECTED, 20: OriginateStatus.UNAVAILABLE}


def status_of(reason: int, cause: int | None) -> OriginateStatus:
    """An OriginateResponse's Reason, with the legs' hangup cause for Reason 0, as a status."""
    return _BY_REASON.get(reason) or _BY_CAUSE.get(cause or 0, OriginateStatus.FAILED)


@dataclass(frozen=True)
class OriginateOutcome:
    status: OriginateStatus
    reason: int | None = None
    message: str = ""
    channel: str | None = None  # the ;1 channel name (known once a channel existed)
    hangup_cause: int | None = None  # the callee leg's cause when non-zero, else ours
    hangup_causes: dict[str, int] = field(default_factory=dict)  # Uniqueid -> cause

    @property
    def answered(self) -> bool:
        return self.status is OriginateStatus.ANSWERED


def new_channel_ids() -> tuple[str, str]:
    base = f"ivr-{uuid.uuid4()}"
    return f"{base}-a", f"{base}-b"


class OriginateHandle:
    """One Originate we sent. ``await handle.outcome()``; ``await handle.ended()`` for the cause
    at the end of an answered call."""

    def __init__(self, action_id: str, channel_id: str, other_channel_id: str) -> None:
        self.action_id = action_id
        self.channel_id = channel_id
        self.other_channel_id = other_channel_id
        self.channel: str | None = None
        self.causes: dict[str, int] = {}
        self._live: set[str] = set()
        self._loop = asyncio.get_running_loop()
        self._outcome: asyncio.Future[OriginateOutcome] = self._loop.create_future()
        self._ended: asyncio.Future[int | None] = self._loop.create_future()
        self._pending: tuple[int, str] | None = None
        self._grace: asyncio.TimerHandle | None = None

    @property
    def ids(self) -> tuple[str, str]:
        return self.channel_id, self.other_channel_id

    @property
    def done(self) -> bool:
        return self._outcome.done()

    @property
    def finished(self) -> bool:
        """Outcome known and, for an answered call, our leg hung up: nothing more to track."""
        return self._outcome.done() and self._ended.done()

    async def outcome(self) -> OriginateOutcome:
        return await asyncio.shield(self._outcome)

    async def ended(self) -> int | None:
        """The hangup cause of our ;1 leg once the call is over (None if the link was lost)."""
        return await asyncio.shield(self._ended)

    # -- fed by the client ----------------------------------------------------------------
    def refused(self, message: str) -> None:
        self._finish(OriginateOutcome(OriginateStatus.REFUSED, message=message))
        self._end(None)

    def link_lost(self) -> None:
        self._finish(OriginateOutcome(OriginateStatus.LINK_LOST, reason=self._reason(),
                                      message="unknown: AMI link lost", channel=self.channel,
                                      hangup_causes=dict(self.causes)))
        self._end(None)

    def _reason(self) -> int | None:
        return self._pending[0] if self._pending else None

    def on_event(self, msg: Message) -> None:
        name = msg.name
        if name == "OriginateResponse":
            if msg.action_id == self.action_id:  # another call's outcome is not ours
                self._on_response(msg)
            return
        uid = msg.get("Uniqueid")
        if uid not in (self.channel_id, self.other_channel_id):
            return
        if name == "Newchannel":
            self._live.add(uid)
            if uid == self.channel_id:
                self.channel = msg.get("Channel")
        elif name == "Hangup":
            self._live.discard(uid)
            self.causes[uid] = int(msg.get("Cause", "0") or 0)
            if uid == self.channel_id:
                self._end(self.causes[uid])
            self._maybe_finish()

    def _on_response(self, msg: Message) -> None:
        reason = int(msg.get("Reason", "0") or 0)
        self._pending = (reason, msg.get("Response", "") or "")
        if reason == 4:
            self.channel = msg.get("Channel") or self.channel
            self._finish(self._build())
            return
        if not self._live:
            self._maybe_finish()
            return
        # The legs' Hangup events (with the cause) may still be on their way.
        self._grace = self._loop.call_later(HANGUP_GRACE_S, self._force_finish)

    def _force_finish(self) -> None:
        self._live.clear()
        self._maybe_finish()

    def _maybe_finish(self) -> None:
        if self._pending is not None and not self._live and not self.done:
            self._finish(self._build())
            self._end(self.causes.get(self.channel_id))

    def _cause(self) -> int | None:
        callee = self.causes.get(self.other_channel_id)
        return callee if callee else self.causes.get(self.channel_id, callee)

    def _build(self) -> OriginateOutcome:
        assert self._pending is not None
        reason, response = self._pending
        cause = self._cause()
        return OriginateOutcome(status_of(reason, cause), reason, response, self.channel, cause,
                                dict(self.causes))

    def _finish(self, outcome: OriginateOutcome) -> None:
        if self._grace is not None:
            self._grace.cancel()
        if not self._outcome.done():
            self._outcome.set_result(outcome)

    def _end(self, cause: int | None) -> None:
        if not self._ended.done():
            self._ended.set_result(cause)
