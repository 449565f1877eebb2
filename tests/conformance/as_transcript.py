"""Reader for the AudioSocket transcripts (``traces/audiosocket-*.txt``).

They summarise messages instead of quoting bytes (see each file's header)::

    10.851  AST->APP  0x01 UUID           len=16    5b04311d7a024439
  1025.569  AST->APP  0x10 AUDIO(slin8)   ... 33 more messages until t=1665.524, payload lengths
                                          {320: 32, 174: 1}, gap mean 20.00 ms (...)
  4479.077  ----      # EOF from Asterisk (socket closed), 0 stray bytes

A summary line stands for N more messages of the same kind; Asterisk's short frame is the last
of a played file, so the expansion puts full frames first and spreads times evenly.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TRACES = Path(__file__).parent / "traces"

_ONE = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+(?P<dir>AST->APP|APP->AST)\s+0x(?P<kind>[0-9a-f]{2})\s+"
                  r"\S+\s+len=(?P<len>\d+)\s*(?P<head>[0-9a-f]*)\s*$")
_RUN = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+(?P<dir>AST->APP|APP->AST)\s+0x(?P<kind>[0-9a-f]{2})\s+"
                  r"\S+\s+\.\.\. (?P<n>\d+) more messages until t=(?P<end>\d+\.\d+), "
                  r"payload lengths (?P<lengths>\{[^}]*\})")
_NOTE = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+----\s+#\s*(?P<note>.*)$")


@dataclass(frozen=True)
class AsMessage:
    t_ms: float
    direction: str  # "AST->APP" (Asterisk to our server) or "APP->AST"
    kind: int
    length: int
    head: bytes = b""  # first payload bytes shown (verbatim lines only)


@dataclass(frozen=True)
class Run:
    """Consecutive messages of one kind in one direction: (kind, Counter of payload lengths)."""

    kind: int
    lengths: Counter[int]
    start_ms: float
    end_ms: float

    @property
    def count(self) -> int:
        return sum(self.lengths.values())


@dataclass
class AsTranscript:
    name: str
    header: list[str] = field(default_factory=list)
    messages: list[AsMessage] = field(default_factory=list)
    notes: list[tuple[float, str]] = field(default_factory=list)

    def header_value(self, key: str) -> str:
        for line in self.header:
            m = re.search(rf"\b{re.escape(key)}=(\S+)", line)
            if m:
                return m[1]
        raise KeyError(key)

    @property
    def mode(self) -> str:
        """What the recording server did: echo, echo16, prompt-then-hangup, silent, ..."""
        return self.header_value("mode")

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(self.header_value("AS_UUID").split("/")[0])

    @property
    def codec(self) -> str:
        """``slin`` unless the dial string chose one with ``/c(<codec>)``."""
        m = re.search(r"/c\((\w+)\)", self.header_value("AS_UUID"))
        return m[1] if m else "slin"

    def direction(self, direction: str) -> list[AsMessage]:
        return [m for m in self.messages if m.direction == direction]

    def runs(self, direction: str) -> list[Run]:
        """The messages of one direction with consecutive same-kind messages grouped."""
        out: list[Run] = []
        for m in self.direction(direction):
            if out and out[-1].kind == m.kind:
                last = out[-1]
                out[-1] = Run(m.kind, last.lengths + Counter({m.length: 1}), last.start_ms, m.t_ms)
            else:
                out.append(Run(m.kind, Counter({m.length: 1}), m.t_ms, m.t_ms))
        return out

    def note_time(self, text: str) -> float | None:
        for t_ms, note in self.notes:
            if text in note:
                return t_ms
        return None


def load(name: str) -> AsTranscript:
    tr = AsTranscript(name)
    for line in (TRACES / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            tr.header.append(line[1:].strip())
        elif m := _ONE.match(line):
            tr.messages.append(AsMessage(float(m["t"]), m["dir"], int(m["kind"], 16),
                                         int(m["len"]), bytes.fromhex(m["head"])))
        elif m := _RUN.match(line):
            tr.messages.extend(_expand(m))
        elif m := _NOTE.match(line):
            tr.notes.append((float(m["t"]), m["note"]))
        elif line.strip():
            raise ValueError(f"{name}: unreadable line {line!r}")
    return tr


def _expand(m: re.Match[str]) -> list[AsMessage]:
    lengths: dict[int, int] = ast.literal_eval(m["lengths"])
    ordered: list[int] = []
    for length in sorted(lengths, reverse=True):  # full frames first, the short one last
        ordered += [length] * lengths[length]
    count = int(m["n"])
    if len(ordered) != count:
        raise ValueError(f"summary says {count} messages but lengths add up to {len(ordered)}")
    start, end = float(m["t"]), float(m["end"])
    step = (end - start) / max(count - 1, 1)
    return [AsMessage(start + i * step, m["dir"], int(m["kind"], 16), n)
            for i, n in enumerate(ordered)]


def names() -> list[str]:
    return sorted(p.name for p in TRACES.glob("audiosocket-*.txt"))
