"""AMI users from manager*.conf and the classes Asterisk 22 asks of each action.

The class table is main/manager.c of 22.10.1 (`ast_manager_register_xml_core(name, authority,
...)`): an action runs when the user's write classes share ANY class with its authority, or
when it needs none. An event reaches a session only when ALL its classes are in the user's read
classes (process_events). `permit`/`deny` are applied in order, the last match wins
(ast_apply_acl); a refused address gets "Authentication failed" like a wrong secret.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.telephony.emulator.conf_file import ConfError, Section, parse_conf

CLASSES = ("system", "call", "log", "verbose", "command", "agent", "user", "config", "dtmf",
           "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc", "test", "security",
           "message")
ALL = frozenset(CLASSES)

# Action (lower case) -> the classes that allow it; an empty set: any logged-in user.
ACTION_CLASSES: dict[str, frozenset[str]] = {
    "ping": frozenset(), "events": frozenset(), "logoff": frozenset(), "login": frozenset(),
    "challenge": frozenset(), "listcommands": frozenset(), "waitevent": frozenset(),
    "hangup": frozenset({"system", "call"}),
    "status": frozenset({"system", "call", "reporting"}),
    "setvar": frozenset({"call"}),
    "getvar": frozenset({"call", "reporting"}),
    "redirect": frozenset({"call"}),
    "originate": frozenset({"originate"}),
    "command": frozenset({"command"}),
    "userevent": frozenset({"user"}),
    "corestatus": frozenset({"system", "reporting"}),
    "coresettings": frozenset({"system", "reporting"}),
    "coreshowchannels": frozenset({"system", "reporting"}),
    "reload": frozenset({"config", "system"}),
}


def classes(text: str) -> frozenset[str]:
    """get_perm(): each comma-separated word that names a class (unstripped, as in C)."""
    words = set(text.split(","))
    if "all" in words:
        return ALL
    return frozenset(w for w in words if w in ALL)


def event_classes(privilege: str) -> frozenset[str]:
    return frozenset(w for w in privilege.split(",") if w in ALL)


Rule = tuple[bool, ipaddress.IPv4Network | ipaddress.IPv6Network]  # (permit?, network)


@dataclass
class ManagerUser:
    name: str
    secret: str
    read: frozenset[str] = ALL
    write: frozenset[str] = ALL
    acl: list[Rule] = field(default_factory=list)

    def may_run(self, action: str) -> bool:
        need = ACTION_CLASSES.get(action.lower())
        return need is None or not need or bool(need & self.write)

    def may_read(self, privilege: str) -> bool:
        return event_classes(privilege) <= self.read

    def permits(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        allowed = True
        for permit, net in self.acl:
            if ip.version == net.version and ip in net:
                allowed = permit
        return allowed

    @classmethod
    def from_section(cls, section: Section) -> ManagerUser:
        acl: list[Rule] = []
        for entry in section.entries:
            if entry.key.lower() in ("permit", "deny"):
                try:
                    net = ipaddress.ip_network(entry.value, strict=False)
                except ValueError:
                    raise ConfError(f"{entry.where}: bad address {entry.value!r}") from None
                acl.append((entry.key.lower() == "permit", net))
        return cls(section.name, section.get("secret") or "",
                   classes(section.get("read") or ""), classes(section.get("write") or ""), acl)


def load_users(paths: Iterable[Path]) -> dict[str, ManagerUser]:
    """Every user section ([general] is the manager's own settings); a later section of the
    same name replaces the earlier one, which is what `manager reload` does."""
    users: dict[str, ManagerUser] = {}
    for path in paths:
        for section in parse_conf(path):
            if section.name.lower() != "general" and "!" not in section.options:
                users[section.name] = ManagerUser.from_section(section)
    return users
