"""At start, ask Asterisk whether our AMI user may do what the dialer needs, with harmless
actions, and say in one line what is missing (rather than "Permission denied" every 40 s in
the reconciler and every call refused).

Asterisk checks an action's class before it runs the action, so:
- `CoreShowChannels` (class reporting, or system) only lists channels;
- `Originate` without a Channel is refused with "Channel not specified" when allowed (class
  originate) and places no call.
"""

from __future__ import annotations

import logging

from ivr.telephony.ami import AmiClient
from ivr.telephony.errors import AmiError

log = logging.getLogger(__name__)
DENIED = "Permission denied"
# (action, headers, the class manager_ivr.conf grants for it, what ivr uses it for)
PROBES: tuple[tuple[str, list[tuple[str, str]], str, str], ...] = (
    ("Originate", [("Async", "true")], "originate", "Originate: every notification call"),
    ("CoreShowChannels", [], "reporting", "CoreShowChannels: crash recovery"),
)


async def missing_rights(ami: AmiClient) -> list[tuple[str, str]]:
    """(class, why) for each probe Asterisk refused; an AMI error leaves that one unknown."""
    missing = []
    for action, headers, klass, why in PROBES:
        try:
            resp = await ami.send_action(action, headers, check=False)
        except AmiError:
            continue
        if resp.message == DENIED:
            missing.append((klass, why))
    return missing


async def check_rights(ami: AmiClient) -> bool:
    """Log one error line naming each missing write class; True when nothing is missing."""
    missing = await missing_rights(ami)
    if missing:
        names = ", ".join(f"'{klass}' ({why})" for klass, why in missing)
        log.error("AMI user %r lacks write class %s; add it to write= of the user in "
                  "manager_ivr.conf and run `asterisk -rx \"manager reload\"`",
                  ami.username, names)
    return not missing
