"""A code as heard, and how several hearings of it are weighed into one reading.

Socket-free and synchronous (the call's dialogue and the benchmark share it). A reading keeps
one probability per digit and, when the recognizer weighs every digit, its belief in each of
0-9 per position; hearings are independent, so beliefs at a position multiply. A code the
caller said was wrong is never the answer again.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

MAX_MIXED = 8  # conflicting digits weighed as whole codes (2 ** 8 mixes at most)
Beliefs = tuple[float, ...]


@dataclass(frozen=True)
class Reading:
    """A code as heard: its digits, one probability per digit (1.0 for keys) and, when the
    recognizer weighs every digit, its belief in each of 0-9 per position."""

    digits: str
    confidence: tuple[float, ...] = ()
    beliefs: tuple[Beliefs, ...] = ()

    def weighed(self) -> bool:
        return len(self.beliefs) == len(self.digits) and all(len(b) == 10 for b in self.beliefs)

    @classmethod
    def keyed(cls, digits: str) -> Reading:
        return cls(digits, (1.0,) * len(digits), tuple(_certain(d) for d in digits))

    def doubtful(self, below: float) -> list[int]:
        """Positions of the digits heard with less than `below`, least sure first."""
        sure = self.confidence if len(self.confidence) == len(self.digits) else ()
        if not sure:
            return list(range(len(self.digits)))
        return sorted((i for i in range(len(self.digits)) if sure[i] < below),
                      key=lambda i: (sure[i], i))


def merge(before: Reading | None, now: Reading, wrong: Sequence[str] = ()) -> Reading:
    """`now` repaired with `before`, position by position (readings of other lengths: `now`).
    Agreement makes a digit surer (two independent hearings); a conflict keeps the surer
    digit with the margin between the two as its probability, so a close call stays doubtful.
    A code the caller said was `wrong` is never the answer: where the readings differ, the
    likeliest mix of the two that is not a rejected code (measured on dev: a rejected reading
    that differs from the repetition in one digit was wrong in that digit)."""
    if before is None or len(before.digits) != len(now.digits) \
            or len(before.confidence) != len(before.digits) \
            or len(now.confidence) != len(now.digits):
        return now
    if before.weighed() and now.weighed():
        return pick(_joint(before.beliefs, now.beliefs), wrong)
    sure = [1 - (1 - a) * (1 - b) if x == y else abs(a - b) for x, a, y, b
            in zip(before.digits, before.confidence, now.digits, now.confidence, strict=True)]
    differ = [i for i, (x, y) in enumerate(zip(before.digits, now.digits, strict=True)) if x != y]
    if len(differ) > MAX_MIXED:  # too many to weigh as codes: the surer digit at each
        wrong, differ = (), []
        now = Reading("".join(y if b >= a else x for x, a, y, b in zip(
            before.digits, before.confidence, now.digits, now.confidence, strict=True)),
            now.confidence)
    options = []
    for picks in itertools.product((before, now), repeat=len(differ)):
        digits, likely = list(now.digits), 1.0
        for i, choice in zip(differ, picks, strict=True):
            digits[i] = choice.digits[i]
            likely *= choice.confidence[i]
        options.append((likely, "".join(digits)))
    best = [code for _, code in sorted(options, reverse=True) if code not in wrong]
    return Reading(best[0] if best else now.digits, tuple(round(p, 3) for p in sure))


def merge_digit(reading: Reading, position: int, said: Reading,
                wrong: Sequence[str] = ()) -> Reading:
    """`reading` with one digit heard again at `position` (the caller asked for just that
    digit): weighed, the beliefs at that position multiply; otherwise as `merge` does for
    one digit. Not one digit, or no such position: `reading` unchanged."""
    if len(said.digits) != 1 or not 0 <= position < len(reading.digits):
        return reading
    if reading.weighed() and said.weighed():
        rows = list(reading.beliefs)
        rows[position] = _joint((rows[position],), said.beliefs)[0]
        return pick(tuple(rows), wrong)
    old = Reading(reading.digits[position], reading.confidence[position:position + 1])
    one = merge(old, Reading(said.digits, said.confidence[:1]))
    digits = reading.digits[:position] + one.digits + reading.digits[position + 1:]
    sure = (*reading.confidence[:position], *one.confidence, *reading.confidence[position + 1:])
    return Reading(digits, sure)


def pick(rows: tuple[Beliefs, ...], wrong: Sequence[str] = ()) -> Reading:
    """The likeliest code that is not a rejected one among the best and those one or two
    runner-up digits away; each digit as sure as the belief in it (measured on dev: repairs
    codes where two hearings disagreed in two places, or agreed on a wrong digit the caller
    had rejected)."""
    order = [sorted(range(10), key=row.__getitem__, reverse=True) for row in rows]
    best = "".join(str(o[0]) for o in order)

    def swap(code: str, i: int, digit: int) -> str:
        return code[:i] + str(digit) + code[i + 1:]

    found = {best}
    for i, o in enumerate(order):
        found.update(swap(best, i, d) for d in o[1:3])
        found.update(swap(swap(best, i, o[1]), j, order[j][1]) for j in range(i + 1, len(order)))

    def likely(code: str) -> float:
        return sum(math.log(max(rows[i][int(d)], 1e-12)) for i, d in enumerate(code))

    ranked = sorted(found, key=lambda code: (-likely(code), code))
    chosen = next((code for code in ranked if code not in wrong), ranked[0])
    return Reading(chosen, tuple(round(rows[i][int(d)], 3) for i, d in enumerate(chosen)), rows)


def _joint(first: Sequence[Beliefs], second: Sequence[Beliefs]) -> tuple[Beliefs, ...]:
    """Two independent hearings' beliefs, position by position: multiplied, normalized."""
    rows = []
    for a, b in zip(first, second, strict=True):
        joint = [x * y for x, y in zip(a, b, strict=True)]
        total = sum(joint) or 1.0
        rows.append(tuple(p / total for p in joint))
    return tuple(rows)


def _certain(digit: str) -> Beliefs:
    return tuple(1.0 if str(d) == digit else 0.0 for d in range(10))
