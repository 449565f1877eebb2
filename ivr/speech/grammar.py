"""What a turn may say: free speech, digits, yes/no, or a menu's phrases mapped to choices.

A menu grammar is built from its options' phrases and synonyms; engines with grammars add
`[unk]` so out-of-grammar speech is not forced onto an option. A digits grammar may also take
yes/no (a code read back: the caller confirms it or says it again in the same turn).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ivr.speech import digits as digitwords
from ivr.speech.digits import YE, YO
from ivr.speech.errors import GrammarError

GrammarKind = Literal["free", "digits", "yesno", "phrases"]
YES_NO = {
    "en": {"yes": ("yes", "yeah", "yep", "correct", "right"), "no": ("no", "nope", "wrong")},
    "ru": {"yes": ("да", "верно", "правильно"), "no": ("нет", "неверно")},
}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace(YO, YE)))


@dataclass(frozen=True)
class Grammar:
    kind: GrammarKind
    language: str = "en"
    choices: Mapping[str, str] = field(default_factory=dict)  # normalized phrase -> choice key
    expected_digits: int | None = None

    @classmethod
    def free(cls, language: str = "en") -> Grammar:
        return cls("free", language)

    @classmethod
    def digits(cls, language: str = "en", expected: int | None = None) -> Grammar:
        return cls("digits", language, expected_digits=expected)

    @classmethod
    def yesno(cls, language: str = "en") -> Grammar:
        return cls("yesno", language, _yes_no(language))

    @classmethod
    def digits_or_yesno(cls, language: str = "en", expected: int | None = None) -> Grammar:
        """Digits, or yes/no (`choices`): the answer to a code read back."""
        return cls("digits", language, _yes_no(language), expected)

    @classmethod
    def from_choices(cls, choices: Mapping[str, Sequence[str]], language: str = "en") -> Grammar:
        """`{"1": ["billing", "pay a bill"], "2": ["support"]}`: phrases -> the choice key."""
        table = {normalize(p): key for key, phrases in choices.items() for p in phrases}
        table.pop("", None)
        if not table:
            raise GrammarError("a menu grammar needs at least one phrase")
        return cls("phrases", language, table)

    @classmethod
    def parse(cls, spec: str | None, language: str = "en") -> Grammar:
        """CLI form: none (free), digits, yesno, or "phrase a,phrase b"."""
        if spec in (None, "", "free"):
            return cls.free(language)
        if spec == "digits":
            return cls.digits(language)
        if spec == "yesno":
            return cls.yesno(language)
        assert spec is not None
        phrases = [p.strip() for p in spec.split(",") if p.strip()]
        if not phrases:
            raise GrammarError(f"bad grammar {spec!r}: use digits, yesno or \"phrase a,phrase b\"")
        return cls.from_choices({p: [p] for p in phrases}, language)

    def vocabulary(self) -> list[str]:
        """Phrases for an engine grammar (empty: free-form)."""
        if self.kind == "digits":
            return digitwords.grammar_words(self.language) + sorted(self.choices)
        return sorted(self.choices)

    def match(self, text: str) -> str | None:
        """The choice the text names: whole phrase first, then the longest phrase inside it."""
        said = normalize(text)
        if not said or not self.choices:  # free speech, digits alone
            return None
        if said in self.choices:
            return self.choices[said]
        padded = f" {said} "
        hits = [p for p in self.choices if f" {p} " in padded]
        return self.choices[max(hits, key=len)] if hits else None


def _yes_no(language: str) -> dict[str, str]:
    """Normalized phrase -> "yes" or "no"."""
    table = YES_NO.get(language, YES_NO["en"])
    return {p: key for key, phrases in table.items() for p in phrases}
