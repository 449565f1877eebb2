"""Which steps need a one-time code. Hearing a status on a caller-ID match does not; changing
anything always does; a step we do not know is treated as a change (fail closed). The flow
engine applies it before every node that tells a customer's data (flows/disclosure.py), and the
validator to every path to such a node (flows/validate_disclosure.py)."""

from __future__ import annotations

# `identity`: hearing one's own details on file (name, account number) read out by a flow.
LOW_RISK = frozenset({"request_status", "outage_status", "balance", "bill_forecast", "identity"})
CHANGES = frozenset({"bill_limit", "contact_details", "payment", "plan_change", "cancel"})


def requires_otp(step: str, *, caller_id_match: bool, authenticated: bool = False) -> bool:
    if authenticated:
        return False
    if step in LOW_RISK:
        return not caller_id_match
    return True
