"""The `ivr serve` that benchmarks/load.py calls: a subprocess in a temporary folder with demo
data, and what is read from it (CPU, RSS, ERROR lines, asyncio's slow callbacks, /metrics, the
stored interactions)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
IVR = str(Path(sys.executable).parent / "ivr")


class Server:
    """`ivr serve` in a temporary folder, with demo data."""

    def __init__(self, db: str | None, one_session: bool, asyncio_debug: bool = False) -> None:
        self.url: str = db or ""
        self.tmp = Path(tempfile.mkdtemp(prefix="ivr-load-"))
        (self.tmp / "var").mkdir()
        self.ports = {name: str(_free_port()) for name in
                      ("IVR_AGI_PORT", "IVR_AUDIOSOCKET_PORT", "IVR_HTTP_PORT")}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
        speech_cache = ROOT / "var" / "speech"
        self.url = db or f"sqlite:///{self.tmp}/var/ivr.db"
        self.env.update(self.ports, IVR_DATABASE_URL=self.url,
                        IVR_PROMPTS_DIR=str(ROOT / "prompts"),
                        IVR_DIALPLANS_DIR=str(ROOT / "dialplans"),
                        IVR_AGI_MAX_CONNECTIONS="5000", IVR_AGI_MAX_CONNECTIONS_PER_PEER="5000")
        if one_session:  # (unset otherwise: a server from before the setting runs too)
            self.env["IVR_MEDIA_ONE_SESSION"] = "1"
        if asyncio_debug:  # logs every callback that holds the loop over 100 ms
            self.env["PYTHONASYNCIODEBUG"] = "1"
        if speech_cache.is_dir():
            self.env["IVR_SPEECH_CACHE_DIR"] = str(speech_cache)
        self.log = self.tmp / "serve.log"
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        for args in (["db", "upgrade"], ["demo", "load"]):
            subprocess.run([IVR, *args], cwd=self.tmp, env=self.env, check=True,
                           capture_output=True, timeout=120)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen([IVR, "serve"], cwd=self.tmp, env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 180
        while "admin API on" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"ivr serve did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def wait_speech(self, within: float = 120.0) -> None:
        """Until the server's background speech preload has finished, so the idle RSS holds
        the models (at most `within` s: a server from before the preload never says so)."""
        deadline = time.monotonic() + within
        while "preload finished" not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                print(f"(no 'preload finished' in the server's log after {within:.0f} s)")
                return
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def profile(self, out: Path) -> subprocess.Popen[bytes]:
        """py-spy sampling the server (100 Hz, threads apart, without pausing it) into `out`,
        collapsed stacks ("raw"), until it is stopped; `summarize_profile` reads them."""
        assert self.proc is not None
        spy = Path(sys.executable).parent / "py-spy"
        if not spy.exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        return subprocess.Popen([str(spy), "record", "--pid", str(self.proc.pid), "--format",
                                 "raw", "--threads", "--nonblocking", "--output", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cpu_seconds(self) -> float:
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def errors(self) -> int:
        return sum(" ERROR " in line or '"level": "ERROR"' in line
                   for line in self.log.read_text(errors="replace").splitlines())

    def slow_callbacks(self) -> list[str]:
        """asyncio debug mode's lines: "Executing <Handle ...> took 0.150 seconds"."""
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if "Executing <" in line and " took " in line]

    def scrape(self) -> str:
        response = httpx.get(f"http://127.0.0.1:{self.ports['IVR_HTTP_PORT']}/metrics",
                             timeout=30)
        return response.text if response.status_code == 200 else ""  # (before /metrics)

    def histogram(self, name: str = "ivr_key_to_action_seconds",
                  text: str | None = None) -> dict[float, float]:
        """A histogram's cumulative buckets {le: count} from /metrics ({} if absent)."""
        found = re.findall(name + r'_bucket\{le="([^"]+)"\} (\S+)',
                           self.scrape() if text is None else text)
        return {float(le): float(count) for le, count in found}


def sample(text: str, name: str) -> float:
    """One unlabelled sample's value from /metrics text (0 if absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quantile_from_buckets(before: dict[float, float], after: dict[float, float],
                          q: float) -> float | None:
    """The q-quantile (ms) of the observations made between two scrapes, read from the
    cumulative buckets with linear interpolation, as Prometheus' histogram_quantile does."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return None
    rank, low, below = q * total, 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return low * 1000
            share = (rank - below) / max(cumulative - below, 1e-9)
            return (low + (bound - low) * share) * 1000
        low, below = bound, cumulative
    return None


def reached(url: str, interaction: str | None, node: str) -> bool:
    """Whether the stored interaction's path went through `node` (read after the run)."""
    if not interaction:
        return False
    from ivr.store.db import Database
    from ivr.store.repositories.interactions import InteractionRepository

    db = Database(url)
    try:
        return node in InteractionRepository(db).get(int(interaction)).path
    finally:
        db.dispose()


def summarize_profile(path: Path, top: int = 25) -> list[str]:
    """The functions where the server spent its samples: own time and time under them, in % of
    all samples (py-spy's collapsed stacks: "frame;frame;... count")."""
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0] + ")"
                  if " (" in f else f for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            under[frame] = under.get(frame, 0) + count
    if not total:
        return ["(no samples)"]
    rows = [f"{'own %':>6} {'total %':>7}  function ({total} samples)"]
    for name, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        rows.append(f"{100 * count / total:6.1f} {100 * under[name] / total:7.1f}  {name}")
    return rows
