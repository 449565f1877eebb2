"""Errors of the auth package. A flow routes every AuthError to its `unavailable` exit."""

from __future__ import annotations

from ivr.errors import IvrError


class AuthError(IvrError):
    """Base of every error this package raises."""


class OtpUnavailable(AuthError):
    """No code can be sent: no contact on file for the channel, or no sender configured."""


class OtpRateLimited(AuthError):
    """The customer already received the most codes allowed in the rate window."""


class OtpLocked(AuthError):
    """Too many wrong entries: no code for now (send the caller to an agent)."""


class OtpThrottled(OtpLocked):
    """Codes died of wrong entries lately: the next one only after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryError(AuthError):
    """The SMS gateway or the SMTP server refused or could not be reached."""


class SenderConfigError(AuthError):
    """A sender setting (URL, header, body template) is malformed."""
