"""One line of `ivr check`: the part checked, whether it passed, and what it found or the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    part: str
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.part}: {self.text}"


def ok(part: str, text: str) -> Line:
    return Line(part, True, text)


def fail(part: str, text: str) -> Line:
    return Line(part, False, text)
