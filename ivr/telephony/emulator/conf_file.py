"""Asterisk's `.conf` syntax, the subset our snippets use, read the way Asterisk's config.c does.

    [section]            [section](+) appends to an earlier one, [name](!) is a template
    key = value          key => value (same thing for Asterisk; dialplans use `=>`)
    ; comment            `\\;` is a literal semicolon; ;-- block comments --;
    #include other.conf  followed relative to the including file

Values are stripped of surrounding whitespace and nothing else, as Asterisk does: a class list
written `call, dialplan` keeps its space (and Asterisk then ignores ` dialplan`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ivr.telephony.errors import TelephonyError


class ConfError(TelephonyError):
    """A .conf file the emulator cannot read (Asterisk would refuse it too)."""


@dataclass
class Entry:
    key: str
    value: str
    where: str  # file:line, for error messages


@dataclass
class Section:
    name: str
    options: tuple[str, ...] = ()  # what followed the name in parentheses: "+", "!", templates
    entries: list[Entry] = field(default_factory=list)

    def get_all(self, key: str) -> list[str]:
        return [e.value for e in self.entries if e.key.lower() == key.lower()]

    def get(self, key: str) -> str | None:
        values = self.get_all(key)
        return values[-1] if values else None  # the last one wins, as in Asterisk's loaders


_HEADER = re.compile(r"\[(?P<name>[^\]]*)\](?:\((?P<opts>[^)]*)\))?\s*$")
_MAX_INCLUDE_DEPTH = 8


def _strip_comment(line: str, in_block: bool) -> tuple[str, bool]:
    out: list[str] = []
    i = 0
    while i < len(line):
        if in_block:
            end = line.find("--;", i)
            if end < 0:
                return "".join(out), True
            i, in_block = end + 3, False
            continue
        ch = line[i]
        if ch == "\\" and line[i + 1:i + 2] == ";":
            out.append(";")
            i += 2
        elif line.startswith(";--", i):
            in_block, i = True, i + 3
        elif ch == ";":
            break
        else:
            out.append(ch)
            i += 1
    return "".join(out), in_block


def parse_conf(path: Path, _depth: int = 0) -> list[Section]:
    """Sections in file order (an `(+)` section is returned as written; merging is the
    caller's business, since a dialplan and manager.conf treat it the same way)."""
    if _depth > _MAX_INCLUDE_DEPTH:
        raise ConfError(f"{path}: #include nested too deep")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfError(f"{path}: {err.strerror or err}") from None
    sections: list[Section] = []
    in_block = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line, in_block = _strip_comment(raw, in_block)
        line = line.strip()
        if not line:
            continue
        where = f"{path.name}:{lineno}"
        if line.startswith("#"):
            directive, _, arg = line[1:].partition(" ")
            if directive in ("include", "tryinclude"):
                target = path.parent / arg.strip().strip('"<>')
                if target.exists() or directive == "include":
                    sections.extend(parse_conf(target, _depth + 1))
            continue
        header = _HEADER.fullmatch(line)
        if header:
            opts = tuple(o.strip() for o in (header["opts"] or "").split(",") if o.strip())
            sections.append(Section(header["name"].strip(), opts))
            continue
        key, sep, value = line.partition("=")
        if not sep or not sections:
            raise ConfError(f"{where}: expected 'key = value' inside a [section]: {raw!r}")
        if value.startswith(">"):
            value = value[1:]  # `=>`
        sections[-1].entries.append(Entry(key.strip(), value.strip(), where))
    return sections
