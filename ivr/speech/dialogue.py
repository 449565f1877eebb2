"""Codes by dialogue: when to read a spoken code back, how a repetition repairs it, when to stop.

Socket-free and synchronous, so the call path (ivr/flows/nodes/code_dialogue.py) and the
benchmark (`benchmarks/asr.py --dialogue`) run the same policy:

- a code whose every digit was heard surely (`confirm: auto`) is accepted at once;
- one with a doubtful digit is read back ("I heard 4 8 1 2 7 0. Press 1 if that is right, or say
  it again"): 1 accepts it, 2 or a new spoken code rejects it, keys replace it;
- a repetition is merged digit by digit with what was heard before: where both readings agree the
  digit becomes surer, where they differ the surer reading wins, less sure for the conflict;
- after `max_tries` spoken codes not accepted, the caller is asked for keys only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

Confirm = Literal["auto", "always", "never"]
# Per-digit probability under which a digit is doubtful, tuned with `benchmarks/asr.py
# --dialogue` on 200 dev codes: wrong codes accepted fall to 1 in 200 at 0.6 (a "6" heard as
# "3" at 0.91 is the one left) and no further above it, where only read-backs grow.
CONFIRM_BELOW = 0.6
MAX_TRIES = 2
MAX_MIXED = 8  # conflicting digits weighed as whole codes (2 ** 8 mixes at most)
YES_KEY, NO_KEY = "1", "2"
READ_BACK = {
    "en": "I heard {}. Press 1 if that is right, or say it again.",
    "ru": "Я услышал: {}. Если верно, нажмите 1, или повторите.",
}


class Step(Enum):
    ACCEPT = "accept"  # the code is `Dialogue.reading.digits`
    READ_BACK = "read_back"  # say `Dialogue.read_back()` and pass the answer to `answered`
    ASK_AGAIN = "ask_again"  # ask for the code again (the caller said no)
    KEYPAD = "keypad"  # enough spoken tries: ask for keys only


@dataclass(frozen=True)
class Reading:
    """A code as heard: its digits, one probability per digit (1.0 for keys) and, when the
    recognizer weighs every digit, its belief in each of 0-9 per position."""

    digits: str
    confidence: tuple[float, ...] = ()
    beliefs: tuple[tuple[float, ...], ...] = ()

    def weighed(self) -> bool:
        return len(self.beliefs) == len(self.digits) and all(len(b) == 10 for b in self.beliefs)

    @classmethod
    def keyed(cls, digits: str) -> Reading:
        return cls(digits, (1.0,) * len(digits))

    def doubtful(self, below: float) -> list[int]:
        """Positions of the digits heard with less than `below`."""
        sure = self.confidence if len(self.confidence) == len(self.digits) else ()
        return [i for i in range(len(self.digits)) if not sure or sure[i] < below]


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
        return _weigh(before, now, wrong)
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
        for i, pick in zip(differ, picks, strict=True):
            digits[i] = pick.digits[i]
            likely *= pick.confidence[i]
        options.append((likely, "".join(digits)))
    best = [code for _, code in sorted(options, reverse=True) if code not in wrong]
    return Reading(best[0] if best else now.digits, tuple(round(p, 3) for p in sure))


def _weigh(before: Reading, now: Reading, wrong: Sequence[str]) -> Reading:
    """Two hearings weighed digit by digit: each position's beliefs multiplied (independent
    hearings), the likeliest code that is not a rejected one among the best and those one or
    two runner-up digits away; each digit as sure as the joint belief in it (measured on dev:
    repairs codes where the two hearings disagreed in two places, or agreed on a wrong digit
    the caller had rejected)."""
    rows = []
    for a, b in zip(before.beliefs, now.beliefs, strict=True):
        joint = [x * y for x, y in zip(a, b, strict=True)]
        total = sum(joint) or 1.0
        rows.append(tuple(p / total for p in joint))
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
    pick = next((code for code in ranked if code not in wrong), ranked[0])
    return Reading(pick, tuple(round(rows[i][int(d)], 3) for i, d in enumerate(pick)),
                   tuple(rows))


@dataclass
class Dialogue:
    """One code's dialogue. Feed what the caller said (`heard`) and how they answered a
    read-back (`answered`); each returns the next Step."""

    confirm: Confirm = "auto"
    confirm_below: float = CONFIRM_BELOW
    max_tries: int = MAX_TRIES
    reading: Reading | None = None
    tries: int = 0  # spoken codes so far
    read_backs: int = 0
    rejected: list[str] = field(default_factory=list)  # readings the caller said were wrong

    def heard(self, said: Reading) -> Step:
        """A spoken code (keys never come here: a keyed code is taken as it is)."""
        self.tries += 1
        self.reading = merge(self.reading, said, self.rejected)
        if self._sure(self.reading):
            return Step.ACCEPT
        self.read_backs += 1
        return Step.READ_BACK

    def answered(self, keys: str = "", said: Reading | None = None) -> Step:
        """The caller's answer to a read-back: `1`, `2`, a spoken code (`said`), or nothing."""
        if keys == YES_KEY and self.reading is not None:
            return Step.ACCEPT
        if self.reading is not None:
            self.rejected.append(self.reading.digits)
        if said is not None and said.digits and self.tries < self.max_tries:
            return self.heard(said)
        return Step.ASK_AGAIN if self.tries < self.max_tries else Step.KEYPAD

    def read_back(self, language: str) -> str:
        assert self.reading is not None
        template = READ_BACK.get(language, READ_BACK["en"])
        return template.format(" ".join(self.reading.digits))

    def _sure(self, reading: Reading) -> bool:
        if self.confirm == "never":
            return True
        if self.confirm == "always" or self.rejected:
            # a code repaired after the caller said no is read back before it is taken:
            # weighing two hearings is surer than one, but not sure enough (measured on dev:
            # 1 % of codes accepted wrong when repaired codes were taken unread, 0.5 % when not)
            return False
        return not reading.doubtful(self.confirm_below)
