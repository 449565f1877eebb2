"""PocketSphinx with its bundled US English model (BSD): tiny and fast, but far less accurate
on telephone digits than Whisper (see the benchmark), so it is the last resort.

Audio is upsampled to 16 kHz (measured much better than the model at native 8 kHz); grammars
become a JSGF rule of alternatives, free-form uses the bundled language model. A decoder takes
~0.3 s to build, so idle decoders are pooled and reused across turns.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from ivr.speech.errors import EngineUnavailable
from ivr.speech.grammar import Grammar
from ivr.speech.recognizer import clamp_confidence
from ivr.telephony.audiosocket import resample

FREE_SEARCH = "_default"  # the bundled language model


def _pocketsphinx() -> Any:
    try:
        import pocketsphinx  # type: ignore[import-untyped]
    except ImportError:
        raise EngineUnavailable("pocketsphinx is not installed: pip install pocketsphinx") \
            from None
    return pocketsphinx


def jsgf(words: list[str], repeat: bool) -> str:
    alternatives = " | ".join(w.lower() for w in words)
    body = f"( {alternatives} )+" if repeat else f"( {alternatives} )"
    return f"#JSGF V1.0;\ngrammar ivr;\npublic <said> = {body};\n"


class SphinxStream:
    def __init__(self, engine: SphinxEngine, grammar: Grammar) -> None:
        self._engine = engine
        self._grammar = grammar
        self._decoder: Any = None

    def _open(self) -> Any:
        if self._decoder is None:
            self._decoder = self._engine.checkout(self._grammar)
            self._decoder.start_utt()
        return self._decoder

    def accept(self, pcm: bytes) -> str | None:
        decoder = self._open()
        decoder.process_raw(resample(pcm, 8000, self._engine.rate), False, False)
        hyp = decoder.hyp()
        return hyp.hypstr if hyp is not None and hyp.hypstr else None

    def finish(self) -> tuple[str, float]:
        decoder = self._open()
        decoder.end_utt()
        hyp = decoder.hyp()
        self._engine.checkin(decoder)
        self._decoder = None
        if hyp is None or not hyp.hypstr:
            return "", 0.0
        return hyp.hypstr, clamp_confidence(float(hyp.prob))


class SphinxEngine:
    name = "pocketsphinx"

    def __init__(self, language: str = "en", *, rate: int = 16000) -> None:
        if language != "en":
            raise EngineUnavailable(f"pocketsphinx ships no {language!r} model")
        self._ps = _pocketsphinx()
        self.language = language
        self.rate = rate
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def stream(self, grammar: Grammar) -> SphinxStream:
        return SphinxStream(self, grammar)

    def checkout(self, grammar: Grammar) -> Any:
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            decoder = self._ps.Decoder(samprate=self.rate, loglevel="FATAL")
        words = grammar.vocabulary()
        if words:
            text = jsgf(words, grammar.kind == "digits")
            name = "g" + hashlib.sha1(text.encode()).hexdigest()[:12]
            if decoder.current_search() != name:
                decoder.add_jsgf_string(name, text)
                decoder.activate_search(name)
        else:
            decoder.activate_search(FREE_SEARCH)
        return decoder

    def checkin(self, decoder: Any) -> None:
        with self._lock:
            self._idle.append(decoder)
