"""Codes by dialogue, as callers live them.

    .venv/bin/python benchmarks/asr.py --dialogue [--speech ../shared/speech] [--codes 150]

Simulated callers give a six-digit code with real dev recordings and answer read-backs
truthfully: key 1 when the code read back is right; when it is wrong they say the code again,
a different recording of the same digits by the same speaker (fsdd-dev, joined with 150 ms
pauses like fsdd-otp6-dev). The policy is ivr/speech/dialogue.py, the one calls run.

Codes: the 50 of fsdd-otp6-dev, then more built the same way from fsdd-dev (`--codes`).
Seconds per code: the caller's audio, 0.6 s of endpointing silence and the recognition time per
spoken turn, the read-back sentences as synthesized (espeak-ng, 8 kHz), 0.5 s per key answer.
"""

from __future__ import annotations

import argparse
import csv
import pickle
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.speech.audio import duration_ms, read_wav, silence  # noqa: E402
from ivr.speech.dialogue import YES_KEY, Dialogue, Reading, Step  # noqa: E402
from ivr.speech.engines.whisper_engine import WhisperEngine  # noqa: E402
from ivr.speech.grammar import Grammar  # noqa: E402
from ivr.speech.recognizer import Engine, transcribe_pcm  # noqa: E402
from ivr.speech.tts import Tts  # noqa: E402

ENDPOINT_S, KEY_S, LEAD_MS = 0.6, 0.5, 300


@dataclass(frozen=True)
class Code:
    digits: str
    speaker: str
    first: bytes  # the first time the caller says it


@dataclass
class Outcome:
    accepted: str
    right_in_two: bool
    read_backs: int
    turns: int
    seconds: float


class Caller:
    """Gives a code's recordings: the first, then a new one of the same digits per repeat."""

    def __init__(self, fsdd: Path, rows: list[dict[str, str]], seed: int = 7) -> None:
        self.fsdd, self.rng = fsdd, random.Random(seed)
        self.takes: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            self.takes.setdefault((row["digit"], row["speaker"]), []).append(row["file"])

    def say(self, digits: str, speaker: str, avoid: bytes = b"", seed: str = "") -> bytes:
        """A new recording of `digits`: takes not heard in `avoid` (the codes said before);
        `seed` makes the takes the same whatever was said before."""
        pcm, rng = silence(200), random.Random(seed) if seed else self.rng
        for n, digit in enumerate(digits):
            files = self.takes[(digit, speaker)]
            while True:
                take = read_wav(self.fsdd / rng.choice(files))
                if take not in avoid:
                    break
            pcm += take + silence(150 if n < len(digits) - 1 else 200)
        return pcm


def codes(otp: Path, otp_rows: list[dict[str, str]], caller: Caller, extra: int) -> list[Code]:
    made = [Code(r["digits"], r["speaker"], read_wav(otp / r["file"])) for r in otp_rows]
    speakers = sorted({s for _, s in caller.takes})
    for i in range(extra):
        digits = "".join(caller.rng.choice("0123456789") for _ in range(6))
        speaker = speakers[i % len(speakers)]
        made.append(Code(digits, speaker, caller.say(digits, speaker)))
    return made


class Hearings:
    """Each code's spoken turns recognized once (every policy swept reuses them)."""

    def __init__(self, engine: Engine, caller: Caller) -> None:
        self.engine, self.caller = engine, caller
        self.grammar = Grammar.digits(engine.language, 6)
        self.done: dict[tuple[int, int], tuple[Reading, float]] = {}
        self.said: dict[int, list[bytes]] = {}

    def turn(self, index: int, code: Code, attempt: int) -> tuple[Reading, float]:
        """The reading of the caller's `attempt`-th saying of the code, and its seconds."""
        if (index, attempt) not in self.done:
            said = self.said.setdefault(index, [code.first])
            while len(said) <= attempt:
                said.append(self.caller.say(code.digits, code.speaker, b"".join(said),
                                            seed=f"{index}-{len(said)}"))
            pcm = silence(LEAD_MS) + said[attempt] + silence(LEAD_MS)
            started = time.perf_counter()
            result = transcribe_pcm(self.engine, self.grammar, pcm)
            spent = time.perf_counter() - started
            seconds = duration_ms(said[attempt]) / 1000 + ENDPOINT_S + spent
            heard = Reading(result.digits, result.digit_confidence, result.digit_beliefs)
            self.done[(index, attempt)] = (heard, seconds)
        return self.done[(index, attempt)]


def simulate(index: int, code: Code, hearings: Hearings, policy: Callable[[], Dialogue],
             speak: Callable[[str], float]) -> Outcome:
    talk = policy()
    reading, seconds = hearings.turn(index, code, 0)
    said, turns = 1, 1
    step = talk.heard(reading)
    while step is not Step.ACCEPT:
        if step is Step.KEYPAD:  # keys are exact: right, but not within two spoken tries
            return Outcome(code.digits, False, talk.read_backs, turns + 1, seconds + 6 * KEY_S)
        if step is Step.ASK_AGAIN:
            reading, spent = hearings.turn(index, code, said)
            said, turns, seconds = said + 1, turns + 1, seconds + spent
            step = talk.heard(reading)
            continue
        assert talk.reading is not None
        seconds += speak(talk.read_back(hearings.engine.language))
        turns += 1
        if talk.reading.digits == code.digits:
            seconds += KEY_S
            step = talk.answered(keys=YES_KEY)
        else:
            reading, spent = hearings.turn(index, code, said)
            said, seconds = said + 1, seconds + spent
            step = talk.answered(said=reading)
    assert talk.reading is not None
    accepted = talk.reading.digits
    return Outcome(accepted, accepted == code.digits and talk.tries <= 2, talk.read_backs, turns,
                   seconds)


def voice(tts: Tts | None, language: str) -> Callable[[str], float]:
    """Seconds a read-back takes to say (synthesized once per sentence)."""
    cache: dict[str, float] = {}

    def seconds(text: str) -> float:
        if text not in cache:
            pcm = tts.synthesize(text, language) if tts is not None else b""
            cache[text] = duration_ms(pcm) / 1000 if pcm else 0.35 * len(text.split())
        return cache[text]
    return seconds


def report(all_codes: list[Code], hearings: Hearings, policy: Callable[[], Dialogue],
           speak: Callable[[str], float], speaker: str = "") -> dict[str, float]:
    """The figures over every code (or one speaker's)."""
    chosen = [(i, c) for i, c in enumerate(all_codes) if speaker in ("", c.speaker)]
    outcomes = [simulate(i, c, hearings, policy, speak) for i, c in chosen]
    n = len(outcomes)
    return {
        "codes": n,
        "right_in_two": sum(o.right_in_two for o in outcomes) / n,
        "wrong_accepted": sum(o.accepted != c.digits for o, (_, c) in zip(outcomes, chosen,
                                                                           strict=True)) / n,
        "read_backs": sum(o.read_backs for o in outcomes) / n,
        "turns": sum(o.turns for o in outcomes) / n,
        "seconds": sum(o.seconds for o in outcomes) / n,
    }


def manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogue", action="store_true", required=True)
    parser.add_argument("--speech", type=Path, default=ROOT.parent / "shared" / "speech")
    parser.add_argument("--codes", type=int, default=150,
                        help="codes built from fsdd-dev on top of the 50 of fsdd-otp6-dev")
    parser.add_argument("--keep", type=Path,
                        help="keep the recognized turns in this file and reuse them (policy work)")
    args = parser.parse_args()
    engine = WhisperEngine(ROOT / "var" / "speech", "en")
    run(engine, args.speech, args.codes, ROOT / "var" / "speech" / "tts", args.keep)


def run(engine: Engine, speech: Path, extra: int, cache: Path, keep: Path | None = None) -> None:
    """Print the dialogue rows: the shipped policy, then the thresholds around it (dev)."""
    from ivr.speech import tts as tts_module
    from ivr.speech.dialogue import CONFIRM_BELOW, MAX_TRIES

    fsdd, otp = speech / "fsdd-dev", speech / "fsdd-otp6-dev"
    caller = Caller(fsdd, manifest(fsdd))
    all_codes = codes(otp, manifest(otp), caller, extra)
    hearings = Hearings(engine, caller)
    if keep is not None and keep.exists():
        hearings.done = pickle.loads(keep.read_bytes())  # our own file, written below
    speak = voice(Tts(cache) if tts_module.available() else None, engine.language)
    print(f"codes by dialogue: {len(all_codes)} six-digit codes ({len(manifest(otp))} of "
          f"fsdd-otp6-dev, {extra} built from fsdd-dev)", flush=True)
    print("| policy | right within two tries | wrong accepted | read-backs per code "
          "| turns per code | seconds per code |\n|---|---|---|---|---|---|")
    sweep = [("never", 0.0), *(("auto", b) for b in (0.3, 0.5, 0.6, 0.7, 0.8)), ("always", 0.0)]
    for confirm, below in sweep:
        def policy(confirm: str = confirm, below: float = below) -> Dialogue:
            return Dialogue(confirm, below, MAX_TRIES)  # type: ignore[arg-type]
        got = report(all_codes, hearings, policy, speak)
        name = f"confirm {confirm}" + (f", below {below}" if confirm == "auto" else "")
        name += " (default)" if confirm == "auto" and below == CONFIRM_BELOW else ""
        print(f"| {name} | {got['right_in_two']:.1%} | {got['wrong_accepted']:.1%} "
              f"| {got['read_backs']:.2f} | {got['turns']:.2f} | {got['seconds']:.1f} |",
              flush=True)

    if keep is not None:
        keep.write_bytes(pickle.dumps(hearings.done))

    def shipped() -> Dialogue:
        return Dialogue("auto", CONFIRM_BELOW, MAX_TRIES)
    for who in sorted({c.speaker for c in all_codes}):
        got = report(all_codes, hearings, shipped, speak, who)
        print(f"| default, {who} only ({got['codes']:.0f} codes) | {got['right_in_two']:.1%} "
              f"| {got['wrong_accepted']:.1%} | {got['read_backs']:.2f} | {got['turns']:.2f} "
              f"| {got['seconds']:.1f} |", flush=True)
