"""The `ivr` command as a user runs it: a real process, its exit status and what it prints."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx

from tests.processes import Served, assert_one_line_error, free_port, run, wait_for_log


def test_help_lists_the_commands(tmp_path: Path) -> None:
    proc = run(tmp_path, "--help")
    assert proc.returncode == 0
    for command in ("serve", "db", "demo", "call", "agi", "flows", "campaign", "admin", "asr",
                    "prompts", "models"):
        assert command in proc.stdout


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


def test_serve_logs_its_listeners_answers_http_and_stops_on_ctrl_c(server: Served) -> None:
    ports = server.ports
    log = wait_for_log(server.log, "SIMULATED PBX")
    assert f"FastAGI listening on agi://127.0.0.1:{ports['IVR_AGI_PORT']}" in log
    assert f"admin API on http://127.0.0.1:{ports['IVR_HTTP_PORT']}/api" in log
    health = httpx.get(f"http://127.0.0.1:{ports['IVR_HTTP_PORT']}/api/health", timeout=10)
    assert health.json()["status"] == "ok"
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=30) == 0
    log = server.log.read_text(encoding="utf-8")
    assert "stopped" in log and "Traceback" not in log


def test_serve_on_a_busy_port_names_the_port_and_the_setting(
    migrated: Path, ports: dict[str, str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        proc = run(migrated, "serve", **{**ports, "IVR_AGI_PORT": port})
    assert_one_line_error(proc, f"127.0.0.1:{port}", "port in use", "IVR_AGI_PORT")
