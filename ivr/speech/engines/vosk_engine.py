"""Vosk (Kaldi) engine: a model folder loaded once, one KaldiRecognizer per turn.

Vosk resamples 8 kHz input itself; `rate=16000` upsamples with our resampler first instead
(the benchmark compares both). Grammars are the phrase list plus "[unk]".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ivr.speech.errors import EngineUnavailable, ModelMissing
from ivr.speech.grammar import Grammar
from ivr.speech.recognizer import clamp_confidence
from ivr.telephony.audiosocket import resample


def _vosk() -> Any:
    try:
        import vosk
    except ImportError:
        raise EngineUnavailable("the vosk package is not installed: pip install vosk") from None
    vosk.SetLogLevel(-2)  # warnings too: "[unk]" missing from a vocabulary is expected
    return vosk


def check_model_dir(path: Path, setting: str) -> None:
    if not (path / "am").is_dir() and not (path / "final.mdl").exists():
        raise ModelMissing(
            f"no Vosk model at {path}: run 'ivr models fetch' or set {setting} to a model folder"
        )


class VoskStream:
    def __init__(self, recognizer: Any, rate: int) -> None:
        self._rec = recognizer
        self._rate = rate
        self._done: list[tuple[str, float]] = []  # utterances Vosk closed on its own

    def accept(self, pcm: bytes) -> str | None:
        data = resample(pcm, 8000, self._rate) if self._rate != 8000 else pcm
        if self._rec.AcceptWaveform(data):
            self._done.append(_parse(self._rec.Result()))
            return " ".join(t for t, _ in self._done)
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        return " ".join([*(t for t, _ in self._done), partial]).strip() or None

    def finish(self) -> tuple[str, float]:
        parts = [*self._done, _parse(self._rec.FinalResult())]
        self._done = []
        self._rec.Reset()
        said = [(t, c) for t, c in parts if t]
        if not said:
            return "", 0.0
        return " ".join(t for t, _ in said), min(c for _, c in said)


def _parse(raw: str) -> tuple[str, float]:
    data = json.loads(raw)
    words = [w for w in data.get("result", []) if w.get("word") != "[unk]"]
    text = " ".join(w["word"] for w in words) if words else data.get("text", "")
    text = text.replace("[unk]", "").strip()
    if not words:
        return text, 0.0 if not text else 0.5
    return text, clamp_confidence(sum(float(w["conf"]) for w in words) / len(words))


class VoskEngine:
    name = "vosk"

    def __init__(self, model_dir: Path, language: str, *, rate: int = 8000,
                 setting: str = "IVR_VOSK_MODEL_EN") -> None:
        check_model_dir(model_dir, setting)
        vosk = _vosk()
        self.language = language
        self.model_dir = model_dir
        self.rate = rate
        self._vosk = vosk
        self.model = vosk.Model(str(model_dir))

    def stream(self, grammar: Grammar) -> VoskStream:
        words = grammar.vocabulary()
        if words:
            rec = self._vosk.KaldiRecognizer(self.model, self.rate,
                                             json.dumps([*words, "[unk]"], ensure_ascii=False))
        else:
            rec = self._vosk.KaldiRecognizer(self.model, self.rate)
        rec.SetWords(True)
        return VoskStream(rec, self.rate)
