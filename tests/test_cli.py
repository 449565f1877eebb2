"""The `ivr` command as a user runs it: a real process, its exit status and what it prints."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

IVR = str(Path(sys.executable).parent / "ivr")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["IVR_DATABASE_URL"] = f"sqlite:///{tmp_path}/var/ivr.db"
    env.update(settings)
    return env


def run(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IVR, *args], cwd=tmp_path, env=env_for(tmp_path, **settings),
        capture_output=True, text=True, timeout=60, check=False,
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


def test_help_lists_the_commands(tmp_path: Path) -> None:
    proc = run(tmp_path, "--help")
    assert proc.returncode == 0
    for command in ("serve", "db", "demo", "call", "agi", "flows", "campaign"):
        assert command in proc.stdout


@pytest.mark.parametrize("command", ["flows", "asr", "models", "campaign"])
def test_stub_commands_say_not_yet_available_and_exit_2(tmp_path: Path, command: str) -> None:
    proc = run(tmp_path, command)
    assert proc.returncode == 2
    assert f"'ivr {command}' is not yet available" in proc.stderr
    assert proc.stdout == ""


def test_serve_on_an_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    assert_one_line_error(run(tmp_path, "serve"), "ivr db upgrade")


def test_unreachable_database_is_one_line_without_password(tmp_path: Path) -> None:
    url = f"postgresql://ivr:hunter2@127.0.0.1:{free_port()}/ivr"
    proc = run(tmp_path, "db", "upgrade", IVR_DATABASE_URL=url)
    assert_one_line_error(proc, "127.0.0.1")
    assert "hunter2" not in proc.stderr


def test_unknown_setting_stops_the_start(tmp_path: Path) -> None:
    assert_one_line_error(run(tmp_path, "serve", IVR_HTTP_PROT="1"), "IVR_HTTP_PROT")


def test_db_upgrade_then_demo_load_twice_keeps_one_company(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    first = run(tmp_path, "demo", "load")
    second = run(tmp_path, "demo", "load")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "50" in first.stdout
    assert (tmp_path / "var" / "ivr.db").exists()
    assert run(tmp_path, "db", "current").stdout.strip() != ""


@pytest.fixture
def ports() -> dict[str, str]:
    return {
        "IVR_AGI_PORT": str(free_port()),
        "IVR_HTTP_PORT": str(free_port()),
        "IVR_AUDIOSOCKET_PORT": str(free_port()),
    }


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    return tmp_path


def wait_for_line(proc: subprocess.Popen[str], needle: str, seconds: float = 30) -> list[str]:
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never logged; got:\n{''.join(seen)}")


@pytest.fixture
def server(migrated: Path, ports: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [IVR, "serve"], cwd=migrated, env=env_for(migrated, **ports),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_serve_logs_its_listeners_answers_http_and_stops_on_ctrl_c(
    server: subprocess.Popen[str], ports: dict[str, str]
) -> None:
    log = "".join(wait_for_line(server, "SIMULATED PBX"))
    assert f"FastAGI listening on agi://127.0.0.1:{ports['IVR_AGI_PORT']}" in log
    assert f"admin API on http://127.0.0.1:{ports['IVR_HTTP_PORT']}/api" in log
    health = httpx.get(f"http://127.0.0.1:{ports['IVR_HTTP_PORT']}/api/health", timeout=10)
    assert health.json()["status"] == "ok"
    server.send_signal(signal.SIGINT)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 0
    assert "stopped" in err and "Traceback" not in err


def test_serve_on_a_busy_port_names_the_port_and_the_setting(
    migrated: Path, ports: dict[str, str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        proc = run(migrated, "serve", **{**ports, "IVR_AGI_PORT": port})
    assert_one_line_error(proc, f"127.0.0.1:{port}", "port in use", "IVR_AGI_PORT")
