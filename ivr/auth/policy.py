"""Which steps need a one-time code. Hearing a status on a caller-ID match does not; changing
anything always does; a step we do not know is treated as a change (fail closed)."""

from __future__ import annotations

LOW_RISK = frozenset({"request_status", "outage_status", "balance", "bill_forecast"})
CHANGES = frozenset({"bill_limit", "contact_details", "payment", "plan_change", "cancel"})


def requires_otp(step: str, *, caller_id_match: bool, authenticated: bool = False) -> bool:
    if authenticated:
        return False
    if step in LOW_RISK:
        return not caller_id_match
    return True
