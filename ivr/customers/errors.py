"""Errors of the customers package."""

from __future__ import annotations

from ivr.errors import IvrError


class CustomersError(IvrError):
    """Base of every error this package raises."""


class CrmError(CustomersError):
    """The CRM could not answer: unreachable, failed, or answered something unreadable."""


class CrmConfigError(CustomersError):
    """A CRM adapter setting (URL template, header, field mapping) is malformed."""
