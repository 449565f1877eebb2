"""One-time codes: issue to the contact on file, verify, resend, within limits.

Six digits from ``secrets``; only an HMAC (key from settings) is stored; single use; valid
``ttl_seconds`` (at most 10 minutes); ``max_attempts`` wrong entries kill the code; at most
``max_per_window`` codes per ``window_seconds``. The destination always comes from the customer
record: no method takes one from the caller. Every step is written to the audit log (subject
``customer:<id>``); the digits never are.

Wrong entries must hurt whoever keys them, not the customer whose caller ID they spoof. So a
killed code makes the next one wait: for the calling line (caller ID and channel endpoint, all
customers) ``backoff_seconds`` doubling per code it killed, up to ``max_line_backoff``; for the
customer the same, capped at ``max_customer_backoff`` (minutes: a delay, never an hour's
lockout). A verified code resets the count. NIST SP 800-63B's bound stays: ``max_failures``
consecutive wrong entries lock the customer's codes until the owner verifies one an agent sends
to the contact on file (``issue(..., unlock=True)``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ivr.auth.errors import (
    DeliveryError,
    OtpLocked,
    OtpRateLimited,
    OtpThrottled,
    OtpUnavailable,
)
from ivr.auth.messages import code_message, mask
from ivr.auth.senders import CodeSender
from ivr.store.db import Database
from ivr.store.domain import Customer
from ivr.store.models import now_utc
from ivr.store.repositories.audit import AuditRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.otp import OtpRepository, OtpStanding, Refusal

CODE_DIGITS = 6
MAX_TTL_SECONDS = 600
DEAD_CODES_COUNT_FOR = timedelta(days=1)  # older killed codes no longer add to a backoff
Channel = Literal["sms", "email"]
VerifyStatus = Literal["verified", "wrong", "locked", "expired", "used", "no_code"]


def calling_line(caller: str | None, channel: str | None) -> str:
    """Who is asking, as far as the network says: the caller ID and, when known, the channel's
    endpoint (Asterisk names channels <tech>/<endpoint>-<sequence>), so one spoofing the
    caller ID from another trunk or peer is another line than the owner's."""
    number = caller or "withheld"
    if not channel:
        return number
    endpoint = channel.rsplit("-", 1)[0] if "-" in channel else channel
    return f"{number} {endpoint}"[:160]


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code_id: int
    channel: str
    destination: str  # masked, safe to say or show ("a code was sent to +1*****0001")
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Verification:
    """``locked`` means: stop asking, explain and transfer (the audit log has the lockout)."""

    status: VerifyStatus
    attempts_left: int

    @property
    def ok(self) -> bool:
        return self.status == "verified"


class OtpService:
    def __init__(
        self,
        db: Database,
        secret: str | bytes,
        senders: Mapping[str, CodeSender],
        *,
        ttl_seconds: int = 300,
        max_attempts: int = 3,
        max_per_window: int = 5,
        window_seconds: int = 3600,
        backoff_seconds: int = 30,
        max_customer_backoff: int = 900,
        max_line_backoff: int = 3600,
        max_failures: int = 100,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        if not 0 < ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}")
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ValueError("the OTP secret must be at least 16 bytes")
        self._key = key
        self._senders = dict(senders)
        self._ttl = timedelta(seconds=ttl_seconds)
        self._max_attempts = max_attempts
        self._max_per_window = max_per_window
        self._window = timedelta(seconds=window_seconds)
        self._backoff = backoff_seconds
        self._caps = (max_customer_backoff, max_line_backoff)
        self._max_failures = max_failures
        self._clock = clock
        self._codes = OtpRepository(db)
        self._customers = CustomerRepository(db)
        self._audit = AuditRepository(db)

    def _hash(self, customer_id: int, code: str) -> str:
        message = f"{customer_id}:{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def issue(
        self, customer_id: int, channel: Channel | None = None, *, actor: str = "ivr",
        line: str | None = None, unlock: bool = False,
    ) -> IssuedCode:
        """Send a fresh code (superseding older ones) to the customer's contact on file.

        `line`: the calling line that asks (caller ID and channel endpoint), which bears the
        backoff of the codes it kills. `unlock`: an agent's code for the owner, sent despite
        the backoff and the failure cap (only the contact on file gets it)."""
        customer = await asyncio.to_thread(self._customers.get, customer_id)
        chosen, destination = self._destination(customer, channel)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        now = self._clock()
        hashed = self._hash(customer_id, code)
        outcome = await asyncio.to_thread(
            self._codes.issue, customer_id, chosen, mask(destination), hashed, now=now,
            expires_at=now + self._ttl, window_start=now - self._window,
            max_in_window=self._max_per_window, dead_since=now - DEAD_CODES_COUNT_FOR,
            line=None if unlock else line,
            refuse=lambda standing: None if unlock else self._refusal(standing, now),
        )  # fmt: skip
        if outcome.status == "locked":
            await self._log(actor, "otp.refused_locked", customer_id, channel=chosen)
            raise OtpLocked(f"customer {customer_id}: {self._max_failures} wrong entries since "
                            "the last verified code; an agent can send the owner a code")
        if outcome.status == "throttled":
            await self._log(actor, "otp.throttled", customer_id, retry_after=outcome.retry_after)
            raise OtpThrottled(f"customer {customer_id}: codes died of wrong entries; next one "
                               f"in {outcome.retry_after} s", outcome.retry_after)
        if outcome.code is None:
            await self._log(actor, "otp.rate_limited", customer_id, issued=outcome.issued_in_window)
            raise OtpRateLimited(
                f"customer {customer_id} already got {outcome.issued_in_window} codes this hour"
            )
        stored = outcome.code
        issued = IssuedCode(stored.id, chosen, stored.destination, stored.expires_at)
        await self._log(
            actor, "otp.issued", customer_id, code_id=issued.code_id, channel=chosen,
            destination=issued.destination, expires_at=issued.expires_at.isoformat(),
        )  # fmt: skip
        await self._deliver(customer, issued, destination, code, actor)
        return issued

    async def resend(
        self, customer_id: int, *, actor: str = "ivr", line: str | None = None
    ) -> IssuedCode:
        """`*` on the keypad: a new code on the channel of the last one, within the limits."""
        last = await asyncio.to_thread(self._codes.latest, customer_id)
        channel: Channel | None = None
        if last is not None and last.channel in ("sms", "email"):
            channel = "sms" if last.channel == "sms" else "email"
        await self._log(actor, "otp.resend_requested", customer_id)
        return await self.issue(customer_id, channel, actor=actor, line=line)

    def _refusal(self, standing: OtpStanding, now: datetime) -> Refusal | None:
        if standing.failures >= self._max_failures:
            return ("locked", 0)
        wait = max(
            self._wait(standing.dead, standing.last_dead_at, self._caps[0], now),
            self._wait(standing.line_dead, standing.line_last_dead_at, self._caps[1], now),
        )
        return ("throttled", wait) if wait > 0 else None

    def _wait(self, dead: int, last: datetime | None, cap: int, now: datetime) -> int:
        """Seconds still to wait after `dead` killed codes, the last at `last`."""
        if dead == 0 or last is None:
            return 0
        backoff = min(self._backoff * 2 ** min(dead - 1, 30), cap)
        return max(math.ceil((last + timedelta(seconds=backoff) - now).total_seconds()), 0)

    async def verify(self, customer_id: int, entry: str, *, actor: str = "ivr") -> Verification:
        """Check what the caller keyed or said; any mismatch, however malformed, is a wrong try."""
        digits = "".join(ch for ch in entry if not ch.isspace() and ch != "-")
        wanted = self._hash(customer_id, digits)

        def matches(stored: str) -> bool:
            # Always compare full-length hashes so timing says nothing about the code.
            return hmac.compare_digest(stored, wanted) and len(digits) == CODE_DIGITS

        checked = await asyncio.to_thread(
            self._codes.check, customer_id, matches, now=self._clock(),
            max_attempts=self._max_attempts, max_failures=self._max_failures,
        )  # fmt: skip
        code = checked.code
        attempts = code.attempts if code is not None else 0
        status: VerifyStatus = "locked" if checked.status == "lockout" else checked.status
        left = max(self._max_attempts - attempts, 0) if status == "wrong" else 0
        action = {"verified": "otp.verified", "wrong": "otp.wrong", "lockout": "otp.lockout",
                  "locked": "otp.rejected_locked", "expired": "otp.expired", "used": "otp.reused",
                  "no_code": "otp.no_code"}[checked.status]  # fmt: skip
        detail: dict[str, Any] = {"attempts": attempts, "attempts_left": left}
        if code is not None:
            detail["code_id"] = code.id
        await self._log(actor, action, customer_id, **detail)
        return Verification(status, left)

    def _destination(self, customer: Customer, wanted: Channel | None) -> tuple[Channel, str]:
        on_file: dict[Channel, str | None] = {
            "sms": customer.phones[0] if customer.phones else None, "email": customer.email,
        }  # fmt: skip
        order: list[Channel] = [wanted] if wanted else self._preference(customer)
        for channel in order:
            address = on_file[channel]
            if address and channel in self._senders:
                return channel, address
        raise OtpUnavailable(
            f"customer {customer.id} has no contact on file reachable by "
            f"{' or '.join(order)} (or no sender is configured)"
        )

    @staticmethod
    def _preference(customer: Customer) -> list[Channel]:
        return ["email", "sms"] if customer.preferred_channel == "email" else ["sms", "email"]

    async def _deliver(
        self, customer: Customer, issued: IssuedCode, destination: str, code: str, actor: str
    ) -> None:
        minutes = max(int(self._ttl.total_seconds()) // 60, 1)
        subject, text = code_message(code, minutes, customer.language)
        try:
            await self._senders[issued.channel].send(destination, subject, text)
        except DeliveryError as err:
            await self._log(actor, "otp.send_failed", customer.id, code_id=issued.code_id,
                            channel=issued.channel, reason=str(err))  # fmt: skip
            raise
        await self._log(actor, "otp.sent", customer.id, code_id=issued.code_id,
                        channel=issued.channel, destination=issued.destination)  # fmt: skip

    async def _log(self, actor: str, action: str, customer_id: int, **detail: Any) -> None:
        await asyncio.to_thread(
            self._audit.write, actor, action, f"customer:{customer_id}", detail, at=self._clock()
        )
