"""What a newcomer reads after `ivr demo load` and once `make run` listens: sentences that name
the demo numbers worth calling and the commands to try next."""

from __future__ import annotations

from ivr.store.demo import JOHN_CARTER, UNKNOWN_CALLER, WORTH_CALLING, DemoSummary

IVR = ".venv/bin/ivr"  # how `make run` users reach the command (the venv it created)
KNOWN_CALL = f"{IVR} call --from {JOHN_CARTER} --input dtmf:1 --input dtmf:1 --input dtmf:9"
UNKNOWN_CALL = f"{IVR} call --from {UNKNOWN_CALLER} --input wait:8 --input hangup"


def demo_loaded(summary: DemoSummary) -> str:
    if summary.created:
        loaded = (f"Loaded the demo company: {summary.created} customers with their accounts, "
                  f"requests and {summary.interactions} past calls.")
    else:
        loaded = f"The demo company is already loaded ({summary.customers} customers)."
    lines = [
        loaded,
        "Numbers worth calling (ivr call --from NUMBER):",
        *(f"  {number}  {who}" for number, who in WORTH_CALLING),
    ]
    return "\n".join(lines)


def try_next() -> str:
    return "\n".join([
        "ivr is ready. In another terminal, try a demo customer, then a caller it does not know:",
        f"  {KNOWN_CALL}",
        f"  {UNKNOWN_CALL}",
    ])
