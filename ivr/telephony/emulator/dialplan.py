"""A dialplan read from extensions*.conf, for the emulator to answer as that Asterisk would:
does context/exten/priority exist (Originate, Local channels), and what does it run.

Supported: `exten => name,prio,App(data)`, `same => n(label),...`, priorities `n`/numbers/
`hint`, patterns (`_X.`, `_NXX`, `[1-5]`, `.`, `!`; dashes ignored as in pbx.c),
`include => context`, and `[globals]` (also as `[globals](+)`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.telephony.emulator.conf_file import ConfError, Entry, Section, parse_conf

Step = tuple[str, str]  # (application, data)


@dataclass
class Extension:
    name: str  # "s", "5551234" or a pattern starting with "_"
    priorities: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)

    def matches(self, exten: str) -> bool:
        if not self.name.startswith("_"):
            return self.name == exten
        return pattern_matches(self.name[1:], exten)

    def program(self, start: int = 1) -> list[Step]:
        """The steps from priority `start` on, in order (gaps end it, as in Asterisk)."""
        steps, prio = [], start
        while prio in self.priorities:
            steps.append(self.priorities[prio])
            prio += 1
        return steps


@dataclass
class Context:
    name: str
    extensions: list[Extension] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)

    def extension(self, name: str, *, create: bool = False) -> Extension | None:
        for ext in self.extensions:
            if ext.name == name:
                return ext
        if not create:
            return None
        ext = Extension(name)
        self.extensions.append(ext)
        return ext


def pattern_matches(pattern: str, exten: str) -> bool:
    """pbx.c's matching of one extension pattern (without its leading `_`)."""
    p, d = 0, 0
    while d < len(exten) and p < len(pattern):
        ch, c = pattern[p].upper(), exten[d]
        if c == "-":  # a separator in the dialled string
            d += 1
            continue
        if ch in " -":  # ignored in patterns
            p += 1
            continue
        if ch == ".":
            return True
        if ch == "!":
            return True
        if ch == "[":
            end = pattern.find("]", p)
            if end < 0 or not _in_set(pattern[p + 1:end], c):
                return False
            p = end
        elif (ch == "X" and not c.isdigit()) or (ch == "Z" and c not in "123456789") or \
                (ch == "N" and c not in "23456789") or (ch not in "XZN" and pattern[p] != c):
            return False
        p, d = p + 1, d + 1
    if d < len(exten):
        return False
    rest = pattern[p:].replace("-", "").replace(" ", "")
    return rest in ("", "!")


def _in_set(spec: str, c: str) -> bool:
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            if spec[i] <= c <= spec[i + 2]:
                return True
            i += 3
        else:
            if spec[i] == c:
                return True
            i += 1
    return False


_STEP = re.compile(r"(?P<app>[A-Za-z0-9_]+)\s*(?:\((?P<data>.*)\))?\s*$", re.DOTALL)
_PRIO = re.compile(r"(?P<prio>\d+|n|hint)(?:\((?P<label>[^)]*)\))?$")


@dataclass
class Dialplan:
    contexts: dict[str, Context] = field(default_factory=dict)
    globals: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: Iterable[Path]) -> Dialplan:
        plan = cls()
        for path in paths:
            for section in parse_conf(path):
                plan.add_section(section)
        return plan

    def add_section(self, section: Section) -> None:
        if section.name.lower() == "general":
            return
        if section.name.lower() == "globals":
            self.globals.update({e.key: e.value for e in section.entries})
            return
        if "!" in section.options:
            return  # a template: not a context
        ctx = self.contexts.setdefault(section.name, Context(section.name))
        last: tuple[Extension, int] | None = None
        for entry in section.entries:
            key = entry.key.lower()
            if key == "include":
                ctx.includes.append(entry.value)
            elif key in ("exten", "same"):
                last = self._add_step(ctx, entry, last)

    @staticmethod
    def _add_step(ctx: Context, entry: Entry, last: tuple[Extension, int] | None
                  ) -> tuple[Extension, int] | None:
        if entry.key.lower() == "same":
            if last is None:
                raise ConfError(f"{entry.where}: 'same =>' before any 'exten =>'")
            ext, prio_text, app_text = last[0], *_split2(entry.value, entry.where)
        else:
            name, prio_text, app_text = _split3(entry.value, entry.where)
            found = ctx.extension(name, create=True)
            assert found is not None
            ext = found
            if last is None or last[0] is not ext:
                last = (ext, max(ext.priorities, default=0))
        m = _PRIO.fullmatch(prio_text.strip())
        if m is None:
            raise ConfError(f"{entry.where}: bad priority {prio_text!r}")
        if m["prio"] == "hint":
            return last
        prio = last[1] + 1 if m["prio"] == "n" else int(m["prio"])
        step = _STEP.match(app_text.strip())
        if step is None:
            raise ConfError(f"{entry.where}: bad application {app_text!r}")
        ext.priorities[prio] = (step["app"], step["data"] or "")
        if m["label"]:
            ext.labels[m["label"]] = prio
        return ext, prio

    # -- questions an Originate or a Local channel asks -----------------------------------
    def find(self, context: str, exten: str, _seen: frozenset[str] = frozenset()
             ) -> Extension | None:
        ctx = self.contexts.get(context)
        if ctx is None or context in _seen:
            return None
        exact = [e for e in ctx.extensions if e.name == exten]
        for ext in exact + [e for e in ctx.extensions if e.name.startswith("_")]:
            if ext.matches(exten):
                return ext
        for inc in ctx.includes:
            found = self.find(inc.partition(",")[0], exten, _seen | {context})
            if found is not None:
                return found
        return None

    def exists(self, context: str, exten: str, priority: int = 1) -> bool:
        ext = self.find(context, exten)
        return ext is not None and priority in ext.priorities


def _split2(value: str, where: str) -> tuple[str, str]:
    prio, sep, app = value.partition(",")
    if not sep:
        raise ConfError(f"{where}: expected 'priority,Application(data)'")
    return prio, app


def _split3(value: str, where: str) -> tuple[str, str, str]:
    name, sep, rest = value.partition(",")
    if not sep:
        raise ConfError(f"{where}: expected 'extension,priority,Application(data)'")
    prio, app = _split2(rest, where)
    return name.strip(), prio, app
