"""Reader for the recorded Asterisk transcripts in ``traces/`` (see traces/README.md).

A transcript is a list of chunks: (time in ms, direction, bytes) plus recorder notes.
Concatenating the bytes of one direction gives the exact stream that crossed the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

TRACES = Path(__file__).parent / "traces"

_CHUNK = re.compile(r'^\s*(?P<t>\d+\.\d+)\s+(?P<dir>\S+)\s+(?P<rest>.*)$')
_MORE = re.compile(r'^\s+\|\s+(?P<rest>".*")\s*$')
_ESCAPES = {"\\": b"\\", '"': b'"', "n": b"\n", "r": b"\r", "t": b"\t"}


def unquote(text: str) -> bytes:
    """Decode one C-style quoted string from a transcript (quotes included)."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted transcript string: {text!r}")
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
        elif body[i + 1] == "x":
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        else:
            out += _ESCAPES[body[i + 1]]
            i += 2
    return bytes(out)


@dataclass
class Chunk:
    t_ms: float
    direction: str  # "AST->APP", "APP->AST", "AST->CLI", "CLI->AST", "----" for notes
    data: bytes = b""
    note: str = ""


@dataclass
class Transcript:
    name: str
    header: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)

    def stream(self, direction: str) -> bytes:
        return b"".join(c.data for c in self.chunks if c.direction == direction)

    def wire(self) -> list[Chunk]:
        return [c for c in self.chunks if c.direction != "----"]

    def notes(self) -> list[str]:
        return [c.note for c in self.chunks if c.direction == "----"]


def load(name: str) -> Transcript:
    """Parse ``traces/<name>`` (agi-*.txt and ami-*.txt; audiosocket files use another format)."""
    tr = Transcript(name)
    for line in (TRACES / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            tr.header.append(line[1:].strip())
            continue
        more = _MORE.match(line)
        if more and tr.chunks:
            tr.chunks[-1].data += unquote(more["rest"])
            continue
        m = _CHUNK.match(line)
        if not m:
            continue
        if m["dir"] == "----":
            tr.chunks.append(Chunk(float(m["t"]), "----", note=m["rest"].lstrip("# ")))
        else:
            tr.chunks.append(Chunk(float(m["t"]), m["dir"], unquote(m["rest"].strip())))
    return tr


def names(prefix: str) -> list[str]:
    skip = {"ami-event-sequences.txt"}  # a condensed reading aid, not wire data
    return sorted(p.name for p in TRACES.glob(f"{prefix}*.txt") if p.name not in skip)
