"""Errors of the campaigns package; the CLI and the HTTP layer turn them into one clear line."""

from __future__ import annotations


class CampaignError(Exception):
    """Base of every error this package raises."""


class ImportRejected(CampaignError):
    """The CSV file cannot be imported at all (no header, missing phone column...)."""


class EventRejected(CampaignError):
    """A trigger event is malformed or refers to something unknown (customer, area)."""


class IdempotencyConflict(CampaignError):
    """An idempotency key was reused for a different event."""
