"""Full-stack load: N emulated callers against a running `ivr serve` (issue 12, item 1).

The server is a subprocess (`ivr serve`, demo data, a temporary SQLite file or --db URL); the
callers run in this process (Asterisk's side through `ivr.phone.make_emulator`: FastAGI, and an
AudioSocket connection per media turn, 20 ms frames in real time). Mix:
  keypad  an unknown caller: main menu 2 (outages), then 9 at "anything else?" (goodbye)
  known   the demo customer (CRM lookup, greeting), then the same keys
  anytime an unknown caller who presses 2 once, at a random moment 0-9 s into the call (during
          the lookup, the welcome, a hand-over or the menu), and hangs up 8 s later; the key
          counts as acted on when the stored interaction reached the outage node. With
          --one-session the server holds each call's AudioSocket between turns.
  speech  keys 2 at the main menu, then says "no" (a real recording from
          ../shared/speech/commands-dev) at "anything else?"; skipped when that folder is absent
A key is pressed as soon as its menu's AudioSocket is connected (the caller does not wait for
the prompt). Its "next action" is the IVR's first reaction after it: an AGI command, or the
server ending the AudioSocket session (the prompt stops); after speech also new audio on the
same session (a "did you say...?"). No reaction within 3 s: a lost key.
A call is off its path when the announcements (VERBOSE lines) after a key are not the expected
ones. Server CPU (from /proc/<pid>/stat) per call-minute, its peak RSS, ERROR lines in its log,
and the key -> action histogram from its own /metrics are printed beside; the transport-only
figure is benchmarks/agi_concurrency.py's ivr runner at the same N.

    .venv/bin/python benchmarks/load.py --callers 100 300 [--over 10] [--db URL]
           [--mix keypad=80,known=15,speech=5] [--one-session --mix anytime=1]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_server import ROOT, Server, quantile_from_buckets, reached, summarize_profile

from ivr.phone import make_emulator, prompt_lookup
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived
from ivr.telephony.emulator.audiosocket_media import load_wav

SPEECH = ROOT.parent / "shared" / "speech" / "commands-dev"
MAIN_LINE, KNOWN = "18005550100", "+12125550101"
REACT_S = 3.0
SPEECH_REACT_S = 8.0  # the endpoint (600 ms of silence) and Whisper on a shared CPU
CALL_LIMIT_S = 60.0
# (prompt announced, key, what the next announcement must contain)
KEYS = [("ivr/main-menu", "2", "outage"), ("ivr/main-anything-else", "9", "goodbye")]


@dataclass
class Result:
    kind: str
    key_ms: list[float] = field(default_factory=list)
    speech_ms: list[float] = field(default_factory=list)
    lost: int = 0
    off_path: bool = False
    seconds: float = 0.0
    error: str = ""
    heard: list[str] = field(default_factory=list)  # the IVR's announcements, for --show-off
    interaction: str | None = None


class Caller:
    """One call: presses its keys when each menu listens and times the IVR's reactions."""

    def __init__(self, server: Server, kind: str, speech: Path | None) -> None:
        self.kind, self.speech = kind, speech
        url = f"agi://127.0.0.1:{server.ports['IVR_AGI_PORT']}/ivr"
        caller_id = KNOWN if kind == "known" else f"+1312555{random.randrange(10**4):04d}"
        self.emu: AgiEmulator = make_emulator(
            url, caller_id=caller_id, dnis=MAIN_LINE, steps=[],
            prompts=prompt_lookup(ROOT / "prompts", "en"))
        self.result = Result(kind)

    def commands(self) -> list[tuple[float, list[str]]]:
        return [(e.t_ms, parse_command_line(e.line.rstrip(b"\n")))
                for e in self.emu.events.of(CommandReceived)]

    def announced(self) -> list[str]:
        return [w[1] for _, w in self.commands() if w and w[0].upper() == "VERBOSE"]

    async def run(self) -> Result:
        started = time.monotonic()
        call = asyncio.ensure_future(self.emu.run())
        try:
            async with asyncio.timeout(CALL_LIMIT_S):
                await self._drive(call)
        except TimeoutError:
            self.result.error = "call over its time limit"
        except Exception as err:  # a benchmark reports, never stops
            self.result.error = f"{type(err).__name__}: {err}"
        finally:
            self.emu.hangup()
            try:
                async with asyncio.timeout(10):
                    await asyncio.gather(call, return_exceptions=True)
            except TimeoutError:
                call.cancel()
        self.result.seconds = time.monotonic() - started
        self.result.heard = self.announced()
        self.result.interaction = self.emu.call.variables.get("IVR_INTERACTION_ID")
        return self.result

    async def _drive(self, call: asyncio.Future[Any]) -> None:
        if self.kind == "anytime":
            await asyncio.sleep(random.uniform(0.0, 9.0))
            self.emu.press("2")
            await asyncio.sleep(8.0)
            return
        for prompt, key, expect in KEYS:
            if not await self._until_listening(prompt, call):
                self.result.off_path = True
                return
            seen = len(self.announced())
            if self.kind == "speech" and key == "9" and self.speech is not None:
                acted = await self._speak()
            else:
                acted = await self._press(key)
            if acted is None:
                self.result.lost += 1
                self.result.off_path = True
                return
            if not await self._until_announced(seen, expect, call):
                self.result.off_path = True
                return

    async def _until_listening(self, prompt: str, call: asyncio.Future[Any]) -> bool:
        """Wait for the turn that plays `prompt` to have its AudioSocket connected."""
        media = agi_audiosocket.caller_media(self.emu.call)
        while not call.done():
            words = self.announced()
            if any(prompt in w for w in words[-2:]) and media.current is not None:
                return True
            await asyncio.sleep(0.01)
        return False

    async def _until_announced(self, seen: int, expect: str, call: asyncio.Future[Any]) -> bool:
        """Whether an announcement after the first `seen` mentions `expect` within the time a
        reaction may take (the IVR may first say what it heard)."""
        deadline = time.monotonic() + SPEECH_REACT_S
        while time.monotonic() < deadline and not call.done():
            if any(expect in said for said in self.announced()[seen:]):
                return True
            await asyncio.sleep(0.02)
        return any(expect in said for said in self.announced()[seen:])

    async def _reaction(self, since: float, within: float = REACT_S) -> float | None:
        """ms from `since` (the emulator's clock, ms) to the IVR's next action, None after
        `within` s. Taken from the emulator's event times, not from when this task wakes."""
        media = agi_audiosocket.caller_media(self.emu.call)
        connection, clock = media.current, self.emu.call.clock
        heard = connection.heard_seconds if connection is not None else 0.0
        command = asyncio.ensure_future(self.emu.events.wait_for(
            CommandReceived, lambda e: e.t_ms >= since, within=within))
        waits: set[asyncio.Future[Any]] = {command}
        if connection is not None:
            waits.add(asyncio.ensure_future(connection.ended.wait()))
        if within == SPEECH_REACT_S and connection is not None:
            waits.add(asyncio.ensure_future(_more_audio(connection, heard)))
        try:
            done, _ = await asyncio.wait(waits, timeout=within,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if command in done and command.exception() is None:
            return float(command.result().t_ms - since)
        if done and not all(w.cancelled() or w.exception() for w in done):
            return clock.now() - since
        return None

    async def _press(self, key: str) -> float | None:
        since = self.emu.call.clock.now()
        self.emu.press(key)
        took = await self._reaction(since)
        if took is not None:
            self.result.key_ms.append(took)
        return took

    async def _speak(self) -> float | None:
        assert self.speech is not None
        media = agi_audiosocket.caller_media(self.emu.call)
        if media.current is not None:  # a speaker waits for the question, then answers
            await agi_audiosocket.prompt_finished(media.current)
        await media.speak(load_wav(self.speech))
        took = await self._reaction(self.emu.call.clock.now(), SPEECH_REACT_S)
        if took is not None:
            self.result.speech_ms.append(took)
        return took


async def _more_audio(connection: Any, heard: float) -> None:
    """Returns once the server plays something new on this connection (a question back)."""
    while True:
        if connection.heard_seconds > heard + 0.1:
            return
        await asyncio.sleep(0.02)


def pick_kinds(n: int, mix: dict[str, int], speech: list[Path]) -> list[str]:
    if not speech:
        mix = {k: v for k, v in mix.items() if k != "speech"}
    kinds = [k for k, weight in mix.items() for _ in range(weight)]
    return [random.choice(kinds) for _ in range(n)]


async def load(server: Server, n: int, over: float, mix: dict[str, int]) -> list[Result]:
    speech = sorted(SPEECH.glob("no_*.wav")) if SPEECH.is_dir() else []
    kinds = pick_kinds(n, mix, speech)
    tasks = []
    for index, kind in enumerate(kinds):
        caller = Caller(server, kind, random.choice(speech) if speech else None)
        tasks.append(asyncio.ensure_future(caller.run()))
        await asyncio.sleep(over / n if index < n - 1 else 0)
    return list(await asyncio.gather(*tasks))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def transport_only(n: int) -> str:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "agi_concurrency.py"),
                          "--one", "ivr", str(n)], capture_output=True, text=True, timeout=900)
    try:
        import json

        row = json.loads(out.stdout)
        return f"{row['p50_ms']:.1f}/{row['p95_ms']:.1f}"
    except (ValueError, KeyError):
        return "-"


def run_size(args: argparse.Namespace, n: int, mix: dict[str, int]) -> dict[str, Any]:
    server = Server(args.db, args.one_session, asyncio_debug=args.asyncio_debug)
    server.start()
    spy = None
    try:
        spy = server.profile(args.profile / f"server-{n}.txt") if args.profile else None
        errors_before, cpu_before = server.errors(), server.cpu_seconds()
        hist_before = server.histogram()
        peak = [server.rss_mib()]

        async def main() -> list[Result]:
            async def sample() -> None:
                while True:
                    peak.append(server.rss_mib())
                    await asyncio.sleep(0.5)

            sampler = asyncio.ensure_future(sample())
            try:
                return await load(server, n, args.over or n / 25, mix)
            finally:
                sampler.cancel()

        results = asyncio.run(main())
        cpu = server.cpu_seconds() - cpu_before
        hist_after = server.histogram()
        errors = server.errors() - errors_before
        slow = server.slow_callbacks()
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(60)
        server.stop()
    keys = [ms for r in results for ms in r.key_ms]
    anytime = [r for r in results if r.kind == "anytime"]
    acted = sum(reached(server.url, r.interaction, "outage") for r in anytime)
    lost = sum(r.lost for r in results) + len(anytime) - acted
    call_minutes = sum(r.seconds for r in results) / 60
    return {
        "n": n, "keys": keys, "speech": [ms for r in results for ms in r.speech_ms],
        "lost": lost, "off": sum(r.off_path for r in results) + len(anytime) - acted,
        "failed": sum(bool(r.error) for r in results),
        "strays": [r for r in results if r.off_path or r.error],
        "cpu_per_min": cpu / call_minutes if call_minutes else 0.0, "rss": max(peak),
        "errors": errors, "server_p": [quantile_from_buckets(hist_before, hist_after, q)
                                       for q in (0.5, 0.95, 0.99)],
        "transport": transport_only(n) if args.transport else "-", "slow": slow,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--over", type=float, default=0.0,
                        help="arrivals spread over this many seconds (default N/25)")
    parser.add_argument("--mix", default="keypad=80,known=15,speech=5")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--show-off", action="store_true",
                        help="print what calls off their path heard")
    parser.add_argument("--one-session", action="store_true",
                        help="IVR_MEDIA_ONE_SESSION=1 on the server (use with the anytime mix: "
                        "the other callers follow the per-turn console lines)")
    parser.add_argument("--asyncio-debug", action="store_true",
                        help="run the server with PYTHONASYNCIODEBUG=1 and list slow callbacks")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="sample the server with py-spy during the load; collapsed stacks "
                        "in DIR/server-N.txt and the top functions printed")
    parser.add_argument("--no-transport", dest="transport", action="store_false",
                        help="skip the transport-only reference run")
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    # a caller's frame pump meeting a server that already closed: expected, not news
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    mix = {k: int(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    print(f"{'callers':>7} {'key->action p50/p95/p99 ms':>27} {'server /metrics':>16} "
          f"{'speech p95':>10} {'lost':>5} {'off path':>8} {'failed':>6} {'CPU s/call-min':>14} "
          f"{'RSS MiB':>7} {'errors':>6} {'transport p50/p95':>17}", flush=True)
    for n in args.callers:
        row = run_size(args, n, mix)
        keys = row["keys"]
        ours = "/".join(fmt(pct(keys, q)) for q in (0.5, 0.95, 0.99))
        theirs = "/".join(fmt(v) for v in row["server_p"])
        print(f"{n:>7} {ours:>27} {theirs:>16} {fmt(pct(row['speech'], 0.95)):>10} "
              f"{row['lost']:>5} {row['off']:>8} {row['failed']:>6} {row['cpu_per_min']:>14.2f} "
              f"{row['rss']:>7.0f} {row['errors']:>6} {row['transport']:>17}", flush=True)
        if args.profile:
            for line in summarize_profile(args.profile / f"server-{n}.txt"):
                print(f"        {line}")
        for line in row["slow"][:20]:
            print(f"        slow: {line[-160:]}")
        if row["slow"]:
            print(f"        {len(row['slow'])} callbacks held the loop over 100 ms")
        for stray in row["strays"] if args.show_off else []:
            print(f"        off: {stray.kind} lost={stray.lost} {stray.error} {stray.heard}")
        if keys:
            print(f"        ({len(keys)} keys acted on, mean {statistics.mean(keys):.0f} ms)",
                  flush=True)


if __name__ == "__main__":
    main()
