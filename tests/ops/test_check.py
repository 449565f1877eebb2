"""`ivr check` run as a process: passes against a running demo `ivr serve`, and each broken part
is one FAIL line naming the fix, with exit status 1."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.asterisk_config import AsteriskConfig
from ivr.telephony.emulator.manager_users import ManagerUser
from tests.processes import REPO, Served, free_port, run

SECRET = "right-secret"


def check(cwd: Path, ports: dict[str, str], **settings: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, "check", **ports, **settings)


def failures(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in proc.stderr, proc.stderr
    return [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]


def assert_one_failure(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = failures(proc)
    for word in words:
        assert word in line, line
    assert proc.stdout.strip().endswith("checks failed")
    return line


def test_passes_against_the_running_demo(running: Served) -> None:
    assert run(running.cwd, "demo", "load").returncode == 0
    proc = check(running.cwd, running.ports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert failures(proc) == []
    for part in ("database", "FastAGI port", "AudioSocket port", "speech (en)", "prompts"):
        assert any(line.startswith(f"ok    {part}:") for line in proc.stdout.splitlines()), part
    # Its ports are held by the running server, and ivr check says so rather than failing.
    assert "served by the running ivr serve" in proc.stdout


def test_free_ports_and_a_migrated_database_pass(migrated: Path, ports: dict[str, str]) -> None:
    proc = check(migrated, ports)
    assert proc.returncode == 0, proc.stdout
    assert f"127.0.0.1:{ports['IVR_AGI_PORT']} is free for ivr serve" in proc.stdout


def test_database_on_a_closed_port_fails(migrated: Path, ports: dict[str, str]) -> None:
    url = f"postgresql://ivr:hunter2@127.0.0.1:{free_port()}/ivr"
    line = assert_one_failure(check(migrated, ports, IVR_DATABASE_URL=url), "FAIL  database:",
                              f"127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}",
                              "IVR_DATABASE_URL")
    assert "hunter2" not in line


def test_unmigrated_database_fails_naming_the_upgrade(tmp_path: Path,
                                                      ports: dict[str, str]) -> None:
    assert_one_failure(check(tmp_path, ports), "FAIL  database:", "ivr db upgrade")


def test_missing_prompt_wav_fails_naming_it(migrated: Path, ports: dict[str, str]) -> None:
    prompts = migrated / "prompts"
    shutil.copytree(REPO / "prompts", prompts)
    (prompts / "en" / "goodbye.wav").unlink()
    assert_one_failure(check(migrated, ports, IVR_PROMPTS_DIR=str(prompts)),
                       "FAIL  prompts:", "en/goodbye.wav", "ivr prompts render")


def test_smtp_on_a_closed_port_fails(migrated: Path, ports: dict[str, str]) -> None:
    port = str(free_port())
    assert_one_failure(check(migrated, ports, IVR_SMTP_HOST="127.0.0.1", IVR_SMTP_PORT=port),
                       "FAIL  SMTP:", f"127.0.0.1:{port}", "IVR_SMTP_HOST")


def test_smtp_that_answers_passes(migrated: Path, ports: dict[str, str]) -> None:
    port = free_port()
    controller = Controller(object(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        proc = check(migrated, ports, IVR_SMTP_HOST="127.0.0.1", IVR_SMTP_PORT=str(port))
    finally:
        controller.stop()
    assert proc.returncode == 0, proc.stdout
    assert f"ok    SMTP: 127.0.0.1:{port} answers (220" in proc.stdout


def test_sms_gateway_on_a_closed_port_fails(migrated: Path, ports: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/sms"
    assert_one_failure(check(migrated, ports, IVR_SMS_URL=url), "FAIL  SMS gateway:",
                       "IVR_SMS_URL")


def test_a_port_held_by_another_program_fails(migrated: Path, ports: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", int(ports["IVR_AUDIOSOCKET_PORT"])))
        busy.listen()
        proc = check(migrated, ports)
    assert_one_failure(proc, "FAIL  AudioSocket port:", "port in use", "IVR_AUDIOSOCKET_PORT")


# ---------------------------------------------------------------- AMI: the emulator's server

@pytest.fixture
def asterisk_ami() -> Iterator[tuple[AmiEmulator, str]]:
    """The emulator's AMI server with the shipped manager_ivr.conf user (secret SECRET), run on
    a loop in a thread so the `ivr check` process can log in to it."""
    config = AsteriskConfig.load()
    user = config.only_user().name
    config.set_secret(user, SECRET)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emulator = AmiEmulator(config=config, login_fail_delay=0.0)
    asyncio.run_coroutine_threadsafe(emulator.start(), loop).result(10)
    try:
        yield emulator, user
    finally:
        asyncio.run_coroutine_threadsafe(emulator.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def ami_url(emulator: AmiEmulator, user: str, secret: str) -> str:
    return f"ami://{user}:{secret}@127.0.0.1:{emulator.port}"


def test_ami_user_of_the_shipped_config_passes(
    migrated: Path, ports: dict[str, str], asterisk_ami: tuple[AmiEmulator, str]
) -> None:
    emulator, user = asterisk_ami
    proc = check(migrated, ports, IVR_AMI_URL=ami_url(emulator, user, SECRET))
    assert proc.returncode == 0, proc.stdout
    for part in ("AMI login", "AMI originate", "AMI reporting"):
        assert f"ok    {part}:" in proc.stdout
    # The probes changed nothing: no call was started.
    assert emulator.live_channels() == [] and not emulator.calls


def test_ami_wrong_password_fails(
    migrated: Path, ports: dict[str, str], asterisk_ami: tuple[AmiEmulator, str]
) -> None:
    emulator, user = asterisk_ami
    line = assert_one_failure(
        check(migrated, ports, IVR_AMI_URL=ami_url(emulator, user, "wrong")),
        "FAIL  AMI login:", user, "manager_ivr.conf")
    assert "wrong" not in line.replace(user, "")


def test_ami_user_without_originate_fails_naming_the_class(
    migrated: Path, ports: dict[str, str], asterisk_ami: tuple[AmiEmulator, str]
) -> None:
    emulator, _ = asterisk_ami
    emulator.users["reporter"] = ManagerUser("reporter", SECRET, write=frozenset({"reporting"}))
    assert_one_failure(
        check(migrated, ports, IVR_AMI_URL=ami_url(emulator, "reporter", SECRET)),
        "FAIL  AMI originate:", "write=", "[reporter]")
