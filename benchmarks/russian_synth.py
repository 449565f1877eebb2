"""A SYNTHETIC Russian speech set (espeak-ng, not real callers) and Whisper's accuracy on it.

There is no recorded Russian speech in the team's sets, so this is the only Russian figure we
have, and it says little about real callers: espeak-ng's formant voices are far from human
speech (Whisper finds them harder in some ways and easier in others). What it does measure is
ivr's Russian scoring path end to end - digits 0-9, да/нет and the main-ru menu words - across
several voices, speeds and pitches, cut to the telephone band (300-3400 Hz, 8 kHz, G.711
mu-law) with line noise added, so a change that breaks Russian shows up.

Clean renders are cached in var/russian-synth/ (keyed by voice, speed, pitch and text); noise
and level are added at load time from a fixed seed, so the same N gives the same set.

    .venv/bin/python benchmarks/russian_synth.py [--n 60] [--misses]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.speech.audio import read_wav  # noqa: E402
from ivr.speech.grammar import Grammar  # noqa: E402
from ivr.speech.recognizer import Engine, transcribe_pcm  # noqa: E402

CACHE = ROOT / "var" / "russian-synth"
VOICES = ("ru", "ru+m1", "ru+m3", "ru+m6", "ru+f2", "ru+f4", "ru+klatt")
SPEEDS = (120, 150, 180)  # words per minute
PITCHES = (30, 50, 70)  # espeak-ng 0-99
SNR_DB = (30, 20, 12)  # speech RMS over line noise RMS, before the channel filter
LEVEL_DB = (-12, -24, -36)  # speech RMS in dBFS: loud, normal and quiet lines
DIGITS = ("ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять")
YES_NO = {"да": "yes", "нет": "no"}


@dataclass(frozen=True)
class Item:
    category: str  # "digits" | "yesno" | "menu"
    text: str  # what espeak-ng says
    answer: str  # what the grammar must return: the digit, yes/no, or the menu option
    voice: str
    speed: int
    pitch: int
    snr_db: int
    level_db: int
    seed: int


def menu_options(flow: Path = ROOT / "dialplans" / "main-ru.yaml",
                 node: str = "main-menu") -> dict[str, list[str]]:
    """The menu's phrases by option (intent, else key), as the flow file has them."""
    options = yaml.safe_load(flow.read_text())["nodes"][node]["options"]
    return {str(o.get("intent") or o["key"]): list(o["say"]) for o in options}


def items(n: int, seed: int = 7) -> list[Item]:
    """`n` turns per category; the words cycle, voice/speed/pitch/noise/level are drawn."""
    rng = np.random.default_rng(seed)
    menu = [(p, option) for option, phrases in menu_options().items() for p in phrases]
    words = {"digits": [(w, str(d)) for d, w in enumerate(DIGITS)],
             "yesno": list(YES_NO.items()), "menu": menu}
    out = []
    for category, pairs in words.items():
        for k in range(n):
            text, answer = pairs[k % len(pairs)]
            out.append(Item(category, text, answer, str(rng.choice(VOICES)),
                            int(rng.choice(SPEEDS)), int(rng.choice(PITCHES)),
                            int(rng.choice(SNR_DB)), int(rng.choice(LEVEL_DB)),
                            int(rng.integers(1 << 31))))
    return out


def clean(item: Item, cache: Path = CACHE) -> bytes:
    """espeak-ng's render, band-passed to 300-3400 Hz at 8 kHz mono 16-bit (cached)."""
    key = hashlib.sha256(f"{item.voice}|{item.speed}|{item.pitch}|{item.text}".encode())
    path = cache / f"{key.hexdigest()[:24]}.wav"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            raw, band = Path(tmp) / "raw.wav", Path(tmp) / "band.wav"
            subprocess.run(["espeak-ng", "-v", item.voice, "-s", str(item.speed), "-p",
                            str(item.pitch), "-w", str(raw), "--", item.text], check=True,
                           capture_output=True)
            subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(band),
                            "sinc", "300-3400"], check=True, capture_output=True)
            band.replace(path)
    return read_wav(path)


def mulaw(samples: np.ndarray) -> np.ndarray:
    """A G.711 mu-law round trip (8-bit companding), as a telephone line carries speech."""
    x = np.clip(samples / 32768.0, -1.0, 1.0)
    code = np.round(np.sign(x) * np.log1p(255 * np.abs(x)) / np.log1p(255) * 127)
    y = np.sign(code) * ((1 + 255) ** (np.abs(code) / 127) - 1) / 255
    return np.asarray(y * 32768.0)


def telephone(item: Item, cache: Path = CACHE) -> bytes:
    """The caller's turn: 300 ms of line noise (hiss and mains buzz harmonics), the word at its
    level, 300 ms of noise; all of it through the telephone band and G.711 mu-law."""
    rng = np.random.default_rng(item.seed)
    speech = np.frombuffer(clean(item, cache), dtype="<i2").astype(np.float64)
    rms = float(np.sqrt(np.mean(speech ** 2))) or 1.0
    speech *= 32768 * 10 ** (item.level_db / 20) / rms
    pad = np.zeros(2400)
    audio = np.concatenate([pad, speech, pad])
    noise_rms = 32768 * 10 ** ((item.level_db - item.snr_db) / 20)
    t = np.arange(audio.size) / 8000
    buzz = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in (350, 450, 550))
    audio += noise_rms * (0.9 * rng.normal(0, 1, audio.size) + 0.25 * buzz)
    return bytes(np.clip(mulaw(band(audio)), -32768, 32767).astype("<i2").tobytes())


def band(audio: np.ndarray, low: float = 300.0, high: float = 3400.0) -> np.ndarray:
    """The telephone channel's pass band: the line's noise goes through it as the voice does."""
    spectrum = np.fft.rfft(audio)
    hz = np.fft.rfftfreq(audio.size, 1 / 8000)
    spectrum[(hz < low) | (hz > high)] = 0
    return np.asarray(np.fft.irfft(spectrum, audio.size))


def grammars() -> dict[str, Grammar]:
    """The grammars a main-ru call listens with: digits, yes/no, the main menu's phrases."""
    phrases = [p for ps in menu_options().values() for p in ps]
    return {"digits": Grammar.digits("ru"), "yesno": Grammar.yesno("ru"),
            "menu": Grammar.parse(",".join(phrases), "ru")}


def heard(engine: Engine, grammar: Grammar, item: Item, cache: Path = CACHE) -> str:
    """What ivr's scoring path answers for the item, in the item's `answer` terms."""
    result = transcribe_pcm(engine, grammar, telephone(item, cache))
    if item.category == "digits":
        return result.digits
    if item.category == "menu":  # the phrase heard counts as right when it is the same option
        options = {p: o for o, ps in menu_options().items() for p in ps}  # choice = phrase
        return options.get(result.choice or "", result.choice or "")
    return result.choice or ""


def measure(engine: Engine, n: int, cache: Path = CACHE,
            misses: list[tuple[Item, str]] | None = None) -> dict[str, float]:
    """Accuracy per category on `n` synthetic turns each (plus "all" and per-voice figures)."""
    hits: Counter[str] = Counter()
    total: Counter[str] = Counter()
    marks = grammars()
    for item in items(n):
        got = heard(engine, marks[item.category], item, cache)
        for key in (item.category, "all", f"voice {item.voice}", f"snr {item.snr_db}"):
            total[key] += 1
            hits[key] += got == item.answer
        if got != item.answer and misses is not None:
            misses.append((item, got))
    return {key: hits[key] / total[key] for key in total}


def row(figures: dict[str, float]) -> str:
    return " / ".join(f"{figures[c]:.0%}" for c in ("digits", "yesno", "menu"))


def main() -> None:
    from ivr.speech.engines.whisper_engine import WhisperEngine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="synthetic turns per category")
    parser.add_argument("--misses", action="store_true", help="list every wrong answer")
    args = parser.parse_args()
    engine = WhisperEngine(ROOT / "var" / "speech", "ru")
    wrong: list[tuple[Item, str]] = []
    figures = measure(engine, args.n, misses=wrong)
    print(f"SYNTHETIC Russian (espeak-ng), {args.n} turns per category, {engine.name}")
    for key, value in sorted(figures.items()):
        print(f"  {key:16} {value:6.1%}")
    print(f"digits / yes-no / menu words: {row(figures)}")
    if args.misses:
        for item, got in wrong:
            print(f"  {item.category:6} said {item.text!r} heard {got!r} ({item.voice}, "
                  f"{item.speed} wpm, pitch {item.pitch}, SNR {item.snr_db}, {item.level_db} dB)")


if __name__ == "__main__":
    main()
