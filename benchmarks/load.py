"""Full-stack load: N emulated callers against a running `ivr serve` (issue 12, item 1).

The server is a subprocess (`ivr serve`, demo data, a temporary SQLite file or --db URL); the
callers (load_caller.py) run in this process, or in --procs generator processes (Asterisk's side
through `ivr.phone.make_emulator`: FastAGI, and AudioSocket, 20 ms frames in real time). Mix:
  keypad  an unknown caller: main menu 2 (outages), then 9 at "anything else?" (goodbye)
  known   the demo customer (CRM lookup, greeting), then the same keys
  anytime an unknown caller who presses 2 once, at a random moment 0-9 s into the call (during
          the lookup, the welcome, a hand-over or the menu), and hangs up 8 s later; the key
          counts as acted on when the stored interaction reached the outage node. With
          --one-session the server holds each call's AudioSocket between turns.
  speech  keys 2 at the main menu, then says "no" (a real recording from
          ../shared/speech/commands-dev) at "anything else?"; skipped when that folder is absent
  otp     a customer of its own, known by its number: main menu 1 (billing), 2 (bill limit), then
          keys the one-time code the server sent by SMS or e-mail (to an HTTP gateway and an SMTP
          server in this process, see load_otp.py), then a limit of 50 and # (to the billing
          queue); the reactions timed are those to the menu keys, the code's last digit and #
A key is pressed as soon as its menu's AudioSocket is connected (the caller does not wait for
the prompt). Its "next action" is the IVR's first reaction after it: an AGI command, or the
server ending the AudioSocket session (the prompt stops); after speech also new audio on the
same session (a "did you say...?"). No reaction within 3 s: a lost key.
A call is off its path when the announcements (VERBOSE lines) after a key are not the expected
ones. Server CPU (from /proc/<pid>/stat) per call-minute, its peak RSS and the memory per call
(RSS with the most calls at once, less the RSS idle after the speech models loaded, divided by
those calls), ERROR lines in its log,
and the key -> action histogram from its own /metrics are printed beside; the transport-only
figure is benchmarks/agi_concurrency.py's ivr runner at the same N.

With --rounds R the keypad, known and speech callers go round the main menu R times (2 for
outages, then 1 at "anything else?" back to the main menu; 9 the last time), so calls last
longer and more are on the line at once; with --procs K the callers are spread over K generator
processes (load_procs.py), the parent merging their raw samples.

    .venv/bin/python benchmarks/load.py --callers 100 300 [--over 10] [--db URL]
           [--mix keypad=80,known=15,speech=5] [--one-session --mix anytime=1]
           [--procs 2 --rounds 6]
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
from pathlib import Path
from typing import Any

from load_caller import CALL_LIMIT_S, IN_FLIGHT, SPEECH, Caller, Result
from load_otp import CodeInbox
from load_procs import run_shares
from load_server import (
    ROOT,
    Server,
    quantile_from_buckets,
    reached,
    sample,
    summarize_profile,
)


def pick_kinds(n: int, mix: dict[str, int], speech: list[Path]) -> list[str]:
    if not speech:
        mix = {k: v for k, v in mix.items() if k != "speech"}
    kinds = [k for k, weight in mix.items() for _ in range(weight)]
    return [random.choice(kinds) for _ in range(n)]


def share_of(index: int, kind: str, procs: int) -> int:
    """Which generator process places caller `index`: OTP callers stay with the parent, where
    the SMS gateway and SMTP server receive their codes."""
    return 0 if kind == "otp" else index % procs


async def load(server: Server, kinds: list[str], over: float, inbox: CodeInbox | None,
               otp_phones: list[str], *, share: int = 0, procs: int = 1, t0: float = 0.0,
               rounds: int = 1) -> list[Result]:
    """Place this share's callers, caller i at t0 + i * over / N (one schedule for every
    process, on the system-wide monotonic clock), and wait for their calls to end."""
    speech = sorted(SPEECH.glob("no_*.wav")) if SPEECH.is_dir() else []
    n, phones = len(kinds), iter(otp_phones)
    loop = asyncio.get_running_loop()
    tasks = []
    if inbox is not None:
        await inbox.start()
    try:
        for index, kind in enumerate(kinds):
            if share_of(index, kind, procs) != share:
                continue
            await asyncio.sleep(max(0.0, t0 + index * over / n - time.monotonic()))
            otp = (inbox, next(phones)) if kind == "otp" and inbox is not None else None
            caller = Caller(server, kind, random.choice(speech) if speech else None, otp, rounds)
            tasks.append(loop.create_task(caller.run()))
        return list(await asyncio.gather(*tasks))
    finally:
        if inbox is not None:
            await inbox.stop()


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
    inbox = CodeInbox()
    server.env.update(inbox.env())
    kinds = pick_kinds(n, mix, sorted(SPEECH.glob("no_*.wav")) if SPEECH.is_dir() else [])
    server.start()
    spy = None
    try:
        otp_phones = inbox.add_customers(server.url, kinds.count("otp"))
        server.wait_speech()
        idle = server.rss_mib()  # models loaded, no call yet
        spy = server.profile(args.profile / f"server-{n}.txt") if args.profile else None
        errors_before, cpu_before = server.errors(), server.cpu_seconds()
        scraped_before = server.scrape()
        samples = [(idle, 0)]  # (RSS MiB, calls in flight), sampled by the parent
        over = args.over or n / 25
        t0 = time.monotonic() + 1.0  # the children's first callers, after their fork

        def run_share(share: int) -> tuple[list[Result], float]:
            own_lag: list[float] = [0.0]

            async def main() -> list[Result]:
                async def sample() -> None:
                    loop = asyncio.get_running_loop()
                    while True:
                        if share == 0:
                            samples.append((server.rss_mib(), IN_FLIGHT.value))
                        due = loop.time() + 0.5
                        await asyncio.sleep(0.5)
                        own_lag.append(loop.time() - due)  # this process's loop: starving?

                sampler = asyncio.ensure_future(sample())
                try:
                    return await load(server, kinds, over, inbox if share == 0 else None,
                                      otp_phones, share=share, procs=args.procs, t0=t0,
                                      rounds=args.rounds)
                finally:
                    sampler.cancel()

            return asyncio.run(main()), max(own_lag)

        wait_s = over + CALL_LIMIT_S + 15.0 * args.rounds + 120.0
        results, lags, failures = run_shares(args.procs, run_share, wait_s)
        cpu = server.cpu_seconds() - cpu_before
        scraped_after = server.scrape()
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
    rss_busy, at_once = max(samples, key=lambda sample: (sample[1], sample[0]))
    return {
        "n": n, "keys": keys, "speech": [ms for r in results for ms in r.speech_ms],
        "lost": lost, "off": sum(r.off_path for r in results) + len(anytime) - acted,
        "failed": sum(bool(r.error) for r in results),
        "strays": [r for r in results if r.off_path or r.error],
        "cpu_per_min": cpu / call_minutes if call_minutes else 0.0,
        "rss": max(rss for rss, _ in samples), "at_once": at_once,
        "per_call": (rss_busy - idle) / at_once if at_once else 0.0,
        "errors": errors, "server_p": [quantile_from_buckets(
            server.histogram(text=scraped_before), server.histogram(text=scraped_after), q)
            for q in (0.5, 0.95, 0.99)],
        "lag_p": [quantile_from_buckets(
            server.histogram("ivr_event_loop_lag_seconds", scraped_before),
            server.histogram("ivr_event_loop_lag_seconds", scraped_after), q) for q in (0.5, 0.99)],
        "own_lag": max(lags) * 1000, "failures": failures,
        "speech_p": [quantile_from_buckets(
            server.histogram("ivr_speech_result_seconds", scraped_before),
            server.histogram("ivr_speech_result_seconds", scraped_after), q)
            for q in (0.5, 0.95)],
        "db_per_call": (sample(scraped_after, "ivr_db_statement_seconds_count")
                        - sample(scraped_before, "ivr_db_statement_seconds_count")) / n,
        "transport": transport_only(n) if args.transport else "-", "slow": slow,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--over", type=float, default=0.0,
                        help="arrivals spread over this many seconds (default N/25)")
    parser.add_argument("--mix", default="keypad=75,known=15,speech=5,otp=5")
    parser.add_argument("--procs", type=int, default=1,
                        help="generator processes the callers are spread over (default 1)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times the keypad/known/speech callers go round the main menu "
                        "(longer calls: more at once for the same arrivals)")
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
          f"{'RSS MiB':>7} {'at once':>7} {'MiB/call':>8} {'errors':>6} "
          f"{'transport p50/p95':>17}", flush=True)
    for n in args.callers:
        row = run_size(args, n, mix)
        keys = row["keys"]
        ours = "/".join(fmt(pct(keys, q)) for q in (0.5, 0.95, 0.99))
        theirs = "/".join(fmt(v) for v in row["server_p"])
        print(f"{n:>7} {ours:>27} {theirs:>16} {fmt(pct(row['speech'], 0.95)):>10} "
              f"{row['lost']:>5} {row['off']:>8} {row['failed']:>6} {row['cpu_per_min']:>14.2f} "
              f"{row['rss']:>7.0f} {row['at_once']:>7} {row['per_call']:>8.2f} "
              f"{row['errors']:>6} {row['transport']:>17}", flush=True)
        print(f"        server loop lag p50/p99 {'/'.join(fmt(v) for v in row['lag_p'])} ms, "
              f"load generator's loop lag max {row['own_lag']:.0f} ms, "
              f"{row['db_per_call']:.1f} DB statements per call", flush=True)
        if row["speech"] or row["speech_p"][1] is not None:
            print(f"        speech: callers' p95 {fmt(pct(row['speech'], 0.95))} ms from the end "
                  f"of their recording to the next audio (holds the endpointer's 600 ms of "
                  f"silence); server end of speech -> result p50/p95 "
                  f"{'/'.join(fmt(v) for v in row['speech_p'])} ms "
                  f"({len(row['speech'])} turns)", flush=True)
        for failure in row["failures"]:
            print(f"        generator process failed: {failure.strip()[-300:]}")
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
