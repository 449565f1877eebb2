"""The dialer's own overhead: originates/s it can claim, send and settle against the AMI
emulator with instant outcomes (busy), and its memory, for campaigns of growing size.

For each size the campaign is filled first (not timed), then the dialer runs until it has
settled `--calls` contacts. The comparison in the same process is a bare AmiClient loop sending
the same number of Originates and awaiting their outcomes (no database, no pacing): the ratio
is what the state machine (claim, attempt row before the Originate, settle) costs. Memory is
the RSS growth while dialling (it must not grow with the list size) and the RSS then.
The last column checks the report's counts are exact (attempted == busy == settled).

    .venv/bin/python benchmarks/dialer.py [--sizes 10000 100000 1000000] [--calls 3000]

With --mix N it instead runs one N-contact campaign (N a multiple of 100) with a realistic
outcome mix scripted on the emulator (60 % answer and press 1 through the notify flow on real
FastAGI, 15 % busy, 10 % no answer, 10 % answering machine, 5 % congestion; one attempt each)
and prints the report's totals next to the expected ones.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

from ivr.campaigns import reports
from ivr.campaigns.dialer import Dialer, DialerConfig
from ivr.campaigns.fallback import NoticeSenders
from ivr.campaigns.notify_flow import NotifyFlow
from ivr.campaigns.scheduler import first_call
from ivr.store.db import Database, upgrade
from ivr.store.domain import CampaignSpec, NewContact
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.telephony.ami import AmiClient
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall
from ivr.telephony.fastagi import FastAgiServer

CHUNK = 50_000
CHANNELS = 50  # calls in flight, for the dialer and the bare loop alike


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fill(db: Database, size: int) -> int:
    repo = CampaignRepository(db)
    campaign = repo.create(CampaignSpec(
        name="bench", window_start=0, window_end=24 * 60, max_attempts=1, daily_cap=10,
        max_channels=CHANNELS, calls_per_second=1e6))
    for start in range(0, size, CHUNK):
        batch = [NewContact(phone=f"+1555{i:07d}") for i in range(start, min(size, start + CHUNK))]
        repo.add_contacts(campaign.id, batch, first_call)
    repo.set_state("bench", "running")
    return campaign.id


async def settled(db: Database, campaign_id: int, calls: int) -> None:
    repo = CampaignRepository(db)
    while True:
        progress = await asyncio.to_thread(repo.progress, campaign_id)
        if progress["failed"] + progress["done"] >= calls:
            return
        await asyncio.sleep(0.05)


async def run_dialer(emu: AmiEmulator, db: Database, campaign_id: int, calls: int
                     ) -> tuple[float, int]:
    client = AmiClient("127.0.0.1", emu.port, "ivr", "ivrsecret")
    await client.connect()
    dialer = Dialer(db, client, DialerConfig(owner="bench", max_channels=CHANNELS, batch_size=50,
                                             calls_per_second=1e6, poll_s=0.02))
    rss0 = rss_kib()
    t0 = time.perf_counter()
    await dialer.start()
    await settled(db, campaign_id, calls)
    elapsed = time.perf_counter() - t0
    rss1 = rss_kib()
    await dialer.stop()
    await client.close()
    return elapsed, rss1 - rss0


async def run_bare(emu: AmiEmulator, calls: int) -> float:
    client = AmiClient("127.0.0.1", emu.port, "ivr", "ivrsecret")
    await client.connect()
    sem = asyncio.Semaphore(CHANNELS)

    async def one(i: int) -> None:
        async with sem:
            handle = await client.originate(f"Local/1666{i:07d}@outbound", context="ivr-notify",
                                            exten="notify", timeout_ms=1000)
            await handle.outcome()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    elapsed = time.perf_counter() - t0
    await client.close()
    return elapsed


async def bench(size: int, calls: int, folder: Path) -> tuple[int, float, float, int, int, str]:
    """(size, dialer originates/s, bare originates/s, RSS growth while dialling KiB,
    RSS after filling the campaign KiB, exact counts)."""
    url = f"sqlite:///{folder}/bench-{size}.db"
    upgrade(url)
    db = Database(url)
    campaign_id = await asyncio.to_thread(fill, db, size)
    async with AmiEmulator(ivr_context="ivr-notify") as emu:
        emu.set_default("busy")
        base = rss_kib()
        elapsed, rss = await run_dialer(emu, db, campaign_id, min(calls, size))
        bare = await run_bare(emu, min(calls, size))
    totals = reports.build(db, "bench").totals
    done = min(calls, size)
    exact = "yes" if totals.attempted == totals.busy_no_answer >= done else "NO"
    db.dispose()
    return size, done / elapsed, done / bare, rss, base, exact


# Last two digits of the number -> outcome; 00-59 answer and press 1.
MIX = {"busy": ("*6[0-9]", "*7[0-4]"), "no-answer": ("*7[5-9]", "*8[0-4]"),
       "machine": ("*8[5-9]", "*9[0-4]"), "congestion": ("*9[5-9]",)}


def expected_mix(n: int) -> dict[str, int]:
    per = n // 100
    return {"attempted": n, "reached": 60 * per, "confirmed": 60 * per, "machine": 10 * per,
            "busy_no_answer": 25 * per, "failed": 5 * per, "opted_out": 0,
            "fallback_sent": 30 * per, "answered": 70 * per, "abandoned": 0}


class Discard:
    async def send(self, destination: str, subject: str, text: str) -> None:
        pass


async def run_mix(db: Database, campaign_id: int, n: int) -> float:
    flow = NotifyFlow(db, confirm_timeout=10.0)
    agi = FastAgiServer(flow.handle, "127.0.0.1", 0, shutdown_grace=1.0)
    await agi.start()
    emu = AmiEmulator(agi_url=f"agi://127.0.0.1:{agi.port}", ivr_context="ivr-notify",
                      time_scale=0.05)
    await emu.start()
    for outcome, patterns in MIX.items():
        for pattern in patterns:
            emu.script(pattern, outcome)

    async def answered(call: AnsweredCall) -> None:
        # Asked again (the first key lost between two AGI commands), a person presses again.
        person = [PressWhenAsked("1")] * 2 if int(call.number[-2:]) < 60 else []
        profile = CallProfile(channel=call.channel, uniqueid=call.uniqueid,
                              variables=dict(call.variables), context="ivr-notify",
                              extension="notify")
        await AgiEmulator(call.agi_url, profile=profile, caller=person,
                          prompts=lambda _name: 800).run()

    emu.on_answer = answered
    client = AmiClient("127.0.0.1", emu.port, "ivr", "ivrsecret")
    await client.connect()
    # The lease outlives the run: this measures outcomes and counts, not lease renewal.
    dialer = Dialer(db, client, DialerConfig(
        owner="bench", max_channels=CHANNELS, batch_size=50, calls_per_second=1e6, poll_s=0.02,
        originate_timeout_ms=300, lease_s=3600.0), notices=NoticeSenders(sms=Discard()))
    t0 = time.perf_counter()
    await dialer.start()
    await settled(db, campaign_id, n)
    elapsed = time.perf_counter() - t0
    await dialer.stop()
    await client.close()
    await emu.stop()
    await agi.stop()
    return elapsed


async def mix(n: int, folder: Path) -> None:
    url = f"sqlite:///{folder}/mix-{n}.db"
    upgrade(url)
    db = Database(url)
    campaign_id = await asyncio.to_thread(fill, db, n)
    elapsed = await run_mix(db, campaign_id, n)
    totals = reports.build(db, "bench").to_json()["totals"]
    assert isinstance(totals, dict)
    print(f"{n} contacts, realistic mix, settled in {elapsed:.1f} s ({n / elapsed:.0f}/s)")
    print(f"{'count':>16} {'report':>8} {'expected':>9} {'exact':>6}")
    for key, want in expected_mix(n).items():
        print(f"{key:>16} {totals[key]:>8} {want:>9} {'yes' if totals[key] == want else 'NO':>6}")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--calls", type=int, default=3000, help="contacts settled per size")
    parser.add_argument("--mix", type=int, metavar="N",
                        help="run one N-contact campaign with a realistic outcome mix instead")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.mix:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(mix(args.mix, Path(tmp)))
        return
    print(f"{'contacts':>10} {'dialer orig/s':>14} {'bare AMI orig/s':>16} {'ratio':>6} "
          f"{'RSS +KiB':>9} {'RSS KiB':>9} {'exact':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            row = asyncio.run(bench(size, args.calls, Path(tmp)))
            size, rate, bare, rss, base, exact = row
            print(f"{size:>10} {rate:>14.0f} {bare:>16.0f} {rate / bare:>6.2f} {rss:>9} "
                  f"{base:>9} {exact:>6}", flush=True)


if __name__ == "__main__":
    main()
