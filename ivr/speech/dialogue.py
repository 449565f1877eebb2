"""Codes by dialogue: when to read a spoken code back, how a repetition repairs it, which
digits to ask for again, when to stop.

Socket-free and synchronous, so the call path (ivr/flows/nodes/code_dialogue.py) and the
benchmark (`benchmarks/asr.py --dialogue`) run the same policy:

- a code whose every digit was heard surely (`confirm: auto`) is accepted at once;
- one with a doubtful digit is read back ("I heard 4 8 1 2 7 0. Say yes or press 1 if that is
  right, or say it again"): yes (said or key 1) accepts it, no (said or key 2) or the code
  said again rejects it, keys replace it; an answer not understood gets the read-back once more;
- a repetition is weighed with what was heard before, digit by digit (code_beliefs.py); the
  digits still doubtful after that are asked for one at a time ("Please say just the fourth
  digit"), and the code so repaired is read back before it is taken;
- after `max_tries` spoken codes not accepted, the caller is asked for keys only.

Why ask for a digit by its position rather than "which digit is wrong?": after two hearings
the recognizer knows where it is unsure (the positions where they disagree or were weakly
heard), the caller does not; "which digit is wrong" costs a turn in which the caller must find
and name a position (itself a spoken number that can be misheard) before the digit itself is
said. "Say just the fourth digit" is one short turn, a single digit is what the recognizer
hears best (97-99 % on dev against 86 % for whole codes), and its beliefs multiply into that
position; the read-back that follows still lets the caller refuse the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from ivr.speech.code_beliefs import Reading, merge, merge_digit

__all__ = ["Confirm", "Dialogue", "Reading", "Step"]

Confirm = Literal["auto", "always", "never"]
# Per-digit probability under which a digit is doubtful and the code read back, chosen with
# `benchmarks/asr.py --dialogue` on 600 dev codes: the recognizer is sure of some wrong digits
# (an accented "6" heard as "8" at 0.97), so wrong codes accepted fall from 0.8 % at 0.6 to 0.3 %
# at 0.85-0.9 and 0 at 0.95, while read-backs per code grow 0.74 -> 1.09 -> 1.24; 0.9 keeps a
# margin on both targets (at most 0.5 % wrong, 1.3 read-backs) for speakers not in dev.
CONFIRM_BELOW = 0.9
MAX_TRIES = 2
# After a code said again, digits under ASK_BELOW are asked for alone, at most MAX_ASKED in all
# and ASK_SAME times each (600 dev codes: right within two tries 97.2 % -> 99.3 %, for 0.14 such
# turns per code; at most 1: 99.2 %).
MAX_ASKED = 3
ASK_SAME = 2
ASK_BELOW = 0.9
MAX_UNCLEAR = 1  # read-back answers not understood before one counts as a no
# A spoken yes under this is not taken as one (the read-back is said again): on the 9 yes/no
# recordings of commands-dev, yes and no scored 0.27-0.92, a "down" heard as no 0.12.
YES_BELOW = 0.3
YES_KEY, NO_KEY = "1", "2"
READ_BACK = {
    "en": "I heard {}. Say yes or press 1 if that is right, or say it again.",
    "ru": "Я услышал: {}. Если верно, скажите да или нажмите 1, или повторите.",
}
ASK_DIGIT = {
    "en": "Please say just the {} digit.",
    "ru": "Пожалуйста, назовите только {}-ю цифру.",
}
EN_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
               "ninth", "tenth")


class Step(Enum):
    ACCEPT = "accept"  # the code is `Dialogue.reading.digits`
    READ_BACK = "read_back"  # say `Dialogue.read_back()` and pass the answer to `answered`
    ASK_DIGIT = "ask_digit"  # say `Dialogue.ask_digit()` and pass the answer to `digit`
    ASK_AGAIN = "ask_again"  # ask for the code again (the caller said no)
    KEYPAD = "keypad"  # enough spoken tries: ask for keys only


@dataclass
class Dialogue:
    """One code's dialogue. Feed what the caller said (`heard`), the digit they said again
    (`digit`) and how they answered a read-back (`answered`); each returns the next Step."""

    confirm: Confirm = "auto"
    confirm_below: float = CONFIRM_BELOW
    max_tries: int = MAX_TRIES
    max_asked: int = MAX_ASKED
    ask_below: float = ASK_BELOW  # after a code said again, a digit asked for alone under this
    reading: Reading | None = None
    tries: int = 0  # spoken codes so far
    read_backs: int = 0
    digits_asked: int = 0
    rejected: list[str] = field(default_factory=list)  # readings the caller said were wrong
    asking: int | None = None  # the position asked for (Step.ASK_DIGIT)
    _asked: list[int] = field(default_factory=list)  # positions asked for since the last code
    _unclear: int = 0

    def heard(self, said: Reading) -> Step:
        """A spoken code (keys never come here: a keyed code is taken as it is)."""
        self.tries += 1
        self.reading = merge(self.reading, said, self.rejected)
        self._asked = []
        return self._next()

    def digit(self, said: Reading) -> Step:
        """The answer to "say just the fourth digit": one digit, or the whole code again."""
        assert self.reading is not None and self.asking is not None
        position, self.asking = self.asking, None
        if len(said.digits) == len(self.reading.digits) > 1:  # said it all: weighed, free
            self.reading = merge(self.reading, said, self.rejected)
        else:  # anything but one digit leaves the reading as it was
            self.reading = merge_digit(self.reading, position, said, self.rejected)
        return self._next()

    def answered(self, keys: str = "", said: Reading | None = None, word: str = "",
                 sure: float = 1.0) -> Step:
        """The caller's answer to a read-back: a key (`1`, `2`), a word (`yes`/`no`, `sure`
        its confidence), the code said again (`said`), or nothing."""
        assert self.reading is not None
        if keys == YES_KEY or (word == "yes" and sure >= YES_BELOW):
            return Step.ACCEPT
        again = said is not None and len(said.digits) == len(self.reading.digits)
        if not (keys or word == "no" or again) and self._unclear < MAX_UNCLEAR:
            # silence, an unsure yes, a few digits where a code was read: once more
            self._unclear += 1
            self.read_backs += 1
            return Step.READ_BACK
        self.rejected.append(self.reading.digits)
        if again and said is not None and self.tries < self.max_tries:
            return self.heard(said)
        return Step.ASK_AGAIN if self.tries < self.max_tries else Step.KEYPAD

    def read_back(self, language: str) -> str:
        assert self.reading is not None
        template = READ_BACK.get(language, READ_BACK["en"])
        return template.format(" ".join(self.reading.digits))

    def ask_digit(self, language: str) -> str:
        assert self.asking is not None
        n = self.asking + 1
        if language == "ru":
            return ASK_DIGIT["ru"].format(n)
        if n <= len(EN_ORDINALS):
            return ASK_DIGIT["en"].format(EN_ORDINALS[n - 1])
        return f"Please say just digit number {n}."

    def _next(self) -> Step:
        assert self.reading is not None
        if self.confirm == "never":
            return Step.ACCEPT
        doubtful = self.reading.doubtful(self.confirm_below)
        if not self.rejected:
            if self.confirm == "auto" and not doubtful:
                return Step.ACCEPT
            self.read_backs += 1
            return Step.READ_BACK
        # After a no, the digits still doubtful are asked for one by one. The code so
        # repaired is read back before it is taken: weighing hearings is surer than one, but
        # not sure enough (measured on dev: 1 % of codes accepted wrong when repaired codes
        # were taken unread, 0.5 % when not).
        doubtful = self.reading.doubtful(self.ask_below)
        todo = [i for i in doubtful if self._asked.count(i) < ASK_SAME]
        if todo and len(self._asked) < self.max_asked:
            self.asking = todo[0]
            self._asked.append(todo[0])
            self.digits_asked += 1
            return Step.ASK_DIGIT
        self.read_backs += 1
        return Step.READ_BACK
