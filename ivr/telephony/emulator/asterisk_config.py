"""The Asterisk configuration the emulator plays: by default the project's own `asterisk/*.conf`
(the snippets users include), so the emulator refuses what that Asterisk would refuse and a
mismatch between the shipped config and the code fails a test instead of a campaign.

    config = AsteriskConfig.load()                  # asterisk/extensions*.conf + manager*.conf
    config.install(agi_url="agi://127.0.0.1:4573")  # the README's "set IVR_HOST" step
    config.set_secret("ivr-dialer", "s3cret")       # the README's "change every CHANGE-ME"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ivr.telephony.emulator.dialplan import Dialplan
from ivr.telephony.emulator.manager_users import ManagerUser, load_users

# The snippets at the top of the source tree (absent from a wheel install: callers check).
SHIPPED_DIR = Path(__file__).resolve().parents[3] / "asterisk"
# The globals asterisk/README.md tells the admin to set: where ivr's FastAGI listens.
HOST_VAR, PORT_VAR = "IVR_HOST", "IVR_AGI_PORT"


@dataclass
class AsteriskConfig:
    dialplan: Dialplan
    users: dict[str, ManagerUser] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = SHIPPED_DIR) -> AsteriskConfig:
        return cls(Dialplan.load(sorted(directory.glob("extensions*.conf"))),
                   load_users(sorted(directory.glob("manager*.conf"))))

    @classmethod
    def shipped_available(cls) -> bool:
        return (SHIPPED_DIR / "extensions_ivr.conf").is_file()

    def install(self, agi_url: str) -> None:
        """Point the dialplan's FastAGI globals at `agi_url` (agi://host:port)."""
        parts = urlsplit(agi_url)
        self.dialplan.globals[HOST_VAR] = parts.hostname or "127.0.0.1"
        self.dialplan.globals[PORT_VAR] = str(parts.port or 4573)

    def set_secret(self, user: str, secret: str) -> None:
        self.users[user].secret = secret

    def only_user(self) -> ManagerUser:
        """The one AMI user the snippets define (what the dialer logs in as)."""
        if len(self.users) != 1:
            raise ValueError(f"expected one AMI user, found {sorted(self.users)}")
        return next(iter(self.users.values()))
