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
    """Too many wrong entries: the customer is locked out of OTP for a while (send to an agent)."""


class DeliveryError(AuthError):
    """The SMS gateway or the SMTP server refused or could not be reached."""


class SenderConfigError(AuthError):
    """A sender setting (URL, header, body template) is malformed."""
