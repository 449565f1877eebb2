"""Running the `ivr` command as a user does: a real process, its output and exit status."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

IVR = str(Path(sys.executable).parent / "ivr")
REPO = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["IVR_DATABASE_URL"] = f"sqlite:///{tmp_path}/var/ivr.db"
    env["IVR_PROMPTS_DIR"] = str(REPO / "prompts")
    env["IVR_DIALPLANS_DIR"] = str(REPO / "dialplans")
    env.update(settings)
    return env


def run(tmp_path: Path, *args: str, timeout: float = 60,
        **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IVR, *args], cwd=tmp_path, env=env_for(tmp_path, **settings),
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    # Log lines may precede it; the error itself is the last line, once, without a traceback.
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("ivr: error: ")]
    assert errors == [lines[-1]], proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in errors[0]


def wait_for_log(log: Path, needle: str, seconds: float = 30) -> str:
    """Wait until a process's log file holds `needle`; returns the log so far."""
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        if needle in text:
            return text
        time.sleep(0.05)  # polling a file another process writes; nothing to await here
    raise AssertionError(f"{needle!r} never logged; got:\n{text}")


class Served:
    """A running `ivr serve` with its ports, working folder and log file."""

    def __init__(self, proc: subprocess.Popen[str], ports: dict[str, str], cwd: Path) -> None:
        self.proc, self.ports, self.cwd = proc, ports, cwd
        self.log = cwd / "serve.log"

    @property
    def agi_url(self) -> str:
        return f"agi://127.0.0.1:{self.ports['IVR_AGI_PORT']}"

    def call(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(self.cwd, "call", *args, **self.ports)
