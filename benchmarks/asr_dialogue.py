"""Codes by dialogue, as callers live them.

    .venv/bin/python benchmarks/asr.py --dialogue [--speech ../shared/speech] [--codes 550]

Simulated callers give a six-digit code with real dev recordings and answer truthfully: when
the code read back is right they say "yes" (a real recording from commands-dev, Google Speech
Commands; another speaker's "yes" when asked again); when it is wrong they say the code again,
a different recording of the same digits by the same speaker (fsdd-dev, joined with 150 ms
pauses like fsdd-otp6-dev); asked for one digit, they say that digit (another fsdd-dev take).
The policy is ivr/speech/dialogue.py, the one calls run; each turn is recognized with the
grammar the call would use (a read-back listens for yes/no and digits).

Codes: the 50 of fsdd-otp6-dev, then more built the same way from fsdd-dev (`--codes`).
"Right within two tries": the code accepted is right and the caller said it whole at most
twice (digits asked for one by one are counted as turns, not tries).
Seconds per code: the caller's audio, 0.6 s of endpointing silence and the recognition time per
spoken turn, the sentences read as synthesized (espeak-ng, 8 kHz), 0.5 s per key answer.
"""

from __future__ import annotations

import argparse
import csv
import pickle
import random
import sys
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.speech.audio import duration_ms, read_wav, silence  # noqa: E402
from ivr.speech.dialogue import YES_KEY, Dialogue, Reading, Step  # noqa: E402
from ivr.speech.engines.whisper_engine import WhisperEngine  # noqa: E402
from ivr.speech.grammar import Grammar  # noqa: E402
from ivr.speech.recognizer import Engine, Result, transcribe_pcm  # noqa: E402
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
    digits_asked: int = 0
    yes_missed: int = 0  # "yes" said and not taken as one


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
    """Each spoken turn recognized once (every policy swept reuses them)."""

    def __init__(self, engine: Engine, caller: Caller, yes: list[bytes]) -> None:
        self.engine, self.caller, self.yes = engine, caller, yes
        self.done: dict[Hashable, tuple[Reading, str, float, float]] = {}
        self.said: dict[int, list[bytes]] = {}

    def _recognize(self, key: Hashable, grammar: Grammar, pcm: bytes) -> tuple[Reading, str,
                                                                                float, float]:
        """(digits heard, yes/no heard, its confidence, seconds of the turn)."""
        if key not in self.done:
            started = time.perf_counter()
            result: Result = transcribe_pcm(self.engine, grammar,
                                            silence(LEAD_MS) + pcm + silence(LEAD_MS))
            spent = time.perf_counter() - started
            heard = Reading(result.digits, result.digit_confidence, result.digit_beliefs)
            self.done[key] = (heard, result.choice or "", result.confidence,
                              duration_ms(pcm) / 1000 + ENDPOINT_S + spent)
        return self.done[key]

    def turn(self, index: int, code: Code, attempt: int,
             read_back: bool) -> tuple[Reading, float]:
        """The caller's `attempt`-th saying of the code (over a read-back or not)."""
        said = self.said.setdefault(index, [code.first])
        while len(said) <= attempt:
            said.append(self.caller.say(code.digits, code.speaker, b"".join(said),
                                        seed=f"{index}-{len(said)}"))
        grammar = (Grammar.digits_or_yesno if read_back else Grammar.digits)(
            self.engine.language, len(code.digits))
        heard, _, _, seconds = self._recognize((index, attempt, read_back), grammar,
                                               said[attempt])
        return heard, seconds

    def digit(self, index: int, code: Code, position: int, n: int) -> tuple[Reading, float]:
        """The caller's `n`-th saying of one digit of the code, asked for alone."""
        pcm = self.caller.say(code.digits[position], code.speaker,
                              b"".join(self.said.get(index, [code.first])),
                              seed=f"{index}-digit-{position}-{n}")
        heard, _, _, seconds = self._recognize((index, "digit", position, n),
                                               Grammar.digits(self.engine.language, 1), pcm)
        return heard, seconds

    def answer_yes(self, take: int) -> tuple[Reading, str, float, float]:
        """A recorded "yes" over a read-back, heard with the read-back's grammar."""
        pcm = self.yes[take % len(self.yes)]
        return self._recognize(("yes", take % len(self.yes)),
                               Grammar.digits_or_yesno(self.engine.language, 6), pcm)


def simulate(index: int, code: Code, hearings: Hearings, policy: Callable[[], Dialogue],
             speak: Callable[[str], float], by_voice: bool = True) -> Outcome:
    talk = policy()
    language = hearings.engine.language
    reading, seconds = hearings.turn(index, code, 0, False)
    said, turns, asked, yes_said, yes_missed = 1, 1, 0, 0, 0
    step = talk.heard(reading)
    while step is not Step.ACCEPT:
        if step is Step.KEYPAD:  # keys are exact: right, but not within two spoken tries
            return Outcome(code.digits, False, talk.read_backs, turns + 1, seconds + 6 * KEY_S,
                           talk.digits_asked, yes_missed)
        turns += 1
        if step is Step.ASK_AGAIN:
            reading, spent = hearings.turn(index, code, said, False)
            said, seconds = said + 1, seconds + spent
            step = talk.heard(reading)
            continue
        if step is Step.ASK_DIGIT:
            assert talk.asking is not None
            seconds += speak(talk.ask_digit(language))
            reading, spent = hearings.digit(index, code, talk.asking, asked)
            asked, seconds = asked + 1, seconds + spent
            step = talk.digit(reading)
            continue
        assert talk.reading is not None
        seconds += speak(talk.read_back(language))
        if talk.reading.digits == code.digits and not by_voice:
            seconds += KEY_S
            step = talk.answered(keys=YES_KEY)
        elif talk.reading.digits == code.digits:
            heard, word, sure, spent = hearings.answer_yes(index + yes_said)
            yes_said, seconds = yes_said + 1, seconds + spent
            step = talk.answered(said=heard if heard.digits else None, word=word, sure=sure)
            yes_missed += step is not Step.ACCEPT
        else:
            reading, spent = hearings.turn(index, code, said, True)
            said, seconds = said + 1, seconds + spent
            step = talk.answered(said=reading)
    assert talk.reading is not None
    accepted = talk.reading.digits
    return Outcome(accepted, accepted == code.digits and said <= 2, talk.read_backs, turns,
                   seconds, talk.digits_asked, yes_missed)


def voice(tts: Tts | None, language: str) -> Callable[[str], float]:
    """Seconds a sentence takes to say (synthesized once per sentence)."""
    cache: dict[str, float] = {}

    def seconds(text: str) -> float:
        if text not in cache:
            pcm = tts.synthesize(text, language) if tts is not None else b""
            cache[text] = duration_ms(pcm) / 1000 if pcm else 0.35 * len(text.split())
        return cache[text]
    return seconds


def report(all_codes: list[Code], hearings: Hearings, policy: Callable[[], Dialogue],
           speak: Callable[[str], float], speaker: str = "",
           by_voice: bool = True) -> dict[str, float]:
    """The figures over every code (or one speaker's)."""
    chosen = [(i, c) for i, c in enumerate(all_codes) if speaker in ("", c.speaker)]
    outcomes = [simulate(i, c, hearings, policy, speak, by_voice) for i, c in chosen]
    n = len(outcomes)
    return {
        "codes": n,
        "right_in_two": sum(o.right_in_two for o in outcomes) / n,
        "wrong_accepted": sum(o.accepted != c.digits for o, (_, c) in zip(outcomes, chosen,
                                                                           strict=True)) / n,
        "read_backs": sum(o.read_backs for o in outcomes) / n,
        "digits_asked": sum(o.digits_asked for o in outcomes) / n,
        "turns": sum(o.turns for o in outcomes) / n,
        "seconds": sum(o.seconds for o in outcomes) / n,
        "yes_missed": sum(o.yes_missed for o in outcomes),
    }


def manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogue", action="store_true", required=True)
    parser.add_argument("--speech", type=Path, default=ROOT.parent / "shared" / "speech")
    parser.add_argument("--codes", type=int, default=550,
                        help="codes built from fsdd-dev on top of the 50 of fsdd-otp6-dev")
    parser.add_argument("--keep", type=Path,
                        help="keep the recognized turns in this file and reuse them (policy "
                             "work; stale once the recognizer changes)")
    args = parser.parse_args()
    engine = WhisperEngine(ROOT / "var" / "speech", "en")
    run(engine, args.speech, args.codes, ROOT / "var" / "speech" / "tts", args.keep)


def row(name: str, got: dict[str, float]) -> str:
    return (f"| {name} | {got['right_in_two']:.1%} | {got['wrong_accepted']:.1%} "
            f"| {got['read_backs']:.2f} | {got['digits_asked']:.2f} | {got['turns']:.2f} "
            f"| {got['seconds']:.1f} | {got['yes_missed']:.0f} |")


def run(engine: Engine, speech: Path, extra: int, cache: Path, keep: Path | None = None) -> None:
    """Print the dialogue rows: the shipped policy, then the thresholds around it (dev)."""
    from ivr.speech import tts as tts_module
    from ivr.speech.dialogue import CONFIRM_BELOW, MAX_ASKED, MAX_TRIES

    fsdd, otp, commands = (speech / d for d in ("fsdd-dev", "fsdd-otp6-dev", "commands-dev"))
    caller = Caller(fsdd, manifest(fsdd))
    all_codes = codes(otp, manifest(otp), caller, extra)
    yes = [read_wav(commands / r["file"]) for r in manifest(commands) if r["word"] == "yes"]
    hearings = Hearings(engine, caller, yes)
    if keep is not None and keep.exists():
        hearings.done = pickle.loads(keep.read_bytes())  # our own file, written below
    speak = voice(Tts(cache) if tts_module.available() else None, engine.language)
    print(f"codes by dialogue: {len(all_codes)} six-digit codes ({len(manifest(otp))} of "
          f"fsdd-otp6-dev, {extra} built from fsdd-dev); read-backs answered by voice with "
          f"{len(yes)} recorded yes (commands-dev)", flush=True)
    print("| policy | right within two tries | wrong accepted | read-backs per code "
          "| digits asked per code | turns per code | seconds per code | yes not taken |\n"
          "|---|---|---|---|---|---|---|---|")

    def policy(confirm: str = "auto", below: float = CONFIRM_BELOW,
               asked: int = MAX_ASKED) -> Callable[[], Dialogue]:
        return lambda: Dialogue(confirm, below, MAX_TRIES, asked)  # type: ignore[arg-type]

    sweep = [("never", 0.0), *(("auto", b) for b in (0.6, 0.8, 0.85, 0.9, 0.95)),
             ("always", 0.0)]
    for confirm, below in sweep:
        got = report(all_codes, hearings, policy(confirm, below), speak)
        name = f"confirm {confirm}" + (f", below {below}" if confirm == "auto" else "")
        name += " (default)" if confirm == "auto" and below == CONFIRM_BELOW else ""
        print(row(name, got), flush=True)
    for asked in sorted({0, 1, 2, 3, 4} - {MAX_ASKED}):  # 0: no digit asked for alone
        got = report(all_codes, hearings, policy(asked=asked), speak)
        print(row(f"default, at most {asked} digits asked for alone", got), flush=True)
    print(row("default, read-backs answered with key 1",
              report(all_codes, hearings, policy(), speak, by_voice=False)), flush=True)
    if keep is not None:
        keep.write_bytes(pickle.dumps(hearings.done))
    for who in sorted({c.speaker for c in all_codes}):
        got = report(all_codes, hearings, policy(), speak, who)
        print(row(f"default, {who} only ({got['codes']:.0f} codes)", got), flush=True)


if __name__ == "__main__":
    main()
