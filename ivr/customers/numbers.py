"""Caller IDs to E.164, telling withheld numbers from numbers we cannot read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import phonenumbers

# What Asterisk and carriers put in CALLERID(num) when the number is not presented.
WITHHELD_MARKERS = frozenset(
    {"", "anonymous", "withheld", "private", "restricted", "unavailable", "unknown", "blocked"}
)


@dataclass(frozen=True, slots=True)
class CallerNumber:
    kind: Literal["number", "withheld", "invalid"]
    e164: str | None = None


def normalize(caller_id: str | None, region: str) -> CallerNumber:
    """``+1 (555) 010-0200`` and ``5550100200`` agree in region US; ``89161234567`` and
    ``+79161234567`` in region RU."""
    raw = (caller_id or "").strip()
    if raw.casefold() in WITHHELD_MARKERS:
        return CallerNumber("withheld")
    try:
        parsed = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return CallerNumber("invalid")
    # Possible (right length for the country), not "valid": test and private ranges must match.
    if not phonenumbers.is_possible_number(parsed):
        return CallerNumber("invalid")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return CallerNumber("number", e164)
