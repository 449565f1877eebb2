"""scripts/system-packages.sh, which `make run` and `make test` call: it installs a missing
program with apt-get (root), through `sudo -n` (others), or names the command and fails.

Each test runs the script with PATH holding only a folder of fakes, so espeak-ng looks missing
and apt-get/sudo/id are stand-ins that record how they were called; nothing is installed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.processes import REPO

SCRIPT = REPO / "scripts" / "system-packages.sh"


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def machine(tmp_path: Path, *, uid: int, sudo: bool = False, lists: bool = True) -> Path:
    """A PATH folder: sox is there, espeak-ng is not; apt-get records its arguments and, when
    the package lists are missing (`lists=False`), fails to install until `apt-get update`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake(bin_dir, "id", f"echo {uid}")
    fake(bin_dir, "sox", "exit 0")
    if lists:
        (tmp_path / "lists").touch()
    fake(bin_dir, "apt-get", f"""echo "apt-get $*" >> {calls}
[ "$1" = update ] && : > {tmp_path}/lists
[ -e {tmp_path}/lists ]""")
    if sudo:
        fake(bin_dir, "sudo", f"""echo "sudo $*" >> {calls}
[ "$1" = -n ] || exit 1
shift
"$@\"""")
    return bin_dir


def run_script(bin_dir: Path, *programs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", str(SCRIPT), *programs], env={"PATH": str(bin_dir)},
                          capture_output=True, text=True, timeout=30, check=False)


def calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "calls"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_as_root_a_missing_program_is_installed_with_apt_get(tmp_path: Path) -> None:
    proc = run_script(machine(tmp_path, uid=0), "espeak-ng", "sox")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls(tmp_path) == ["apt-get install -y espeak-ng"]


def test_without_package_lists_apt_get_update_runs_then_the_install_again(
    tmp_path: Path,
) -> None:
    proc = run_script(machine(tmp_path, uid=0, lists=False), "espeak-ng")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls(tmp_path) == ["apt-get install -y espeak-ng", "apt-get update",
                               "apt-get install -y espeak-ng"]


def test_a_user_with_passwordless_sudo_installs_through_sudo(tmp_path: Path) -> None:
    proc = run_script(machine(tmp_path, uid=1000, sudo=True), "espeak-ng", "sox")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sudo -n apt-get install -y espeak-ng" in calls(tmp_path)
    assert "apt-get install -y espeak-ng" in calls(tmp_path)


def test_a_user_without_sudo_gets_one_line_naming_the_command(tmp_path: Path) -> None:
    proc = run_script(machine(tmp_path, uid=1000), "espeak-ng", "sox", "chromium")
    assert proc.returncode == 1
    assert proc.stdout.strip().splitlines() == [
        "missing system package(s): espeak-ng chromium -- install with: "
        "sudo apt-get install -y espeak-ng chromium"
    ]
    assert calls(tmp_path) == []


def test_nothing_missing_installs_nothing(tmp_path: Path) -> None:
    proc = run_script(machine(tmp_path, uid=0), "sox")
    assert (proc.returncode, proc.stdout, calls(tmp_path)) == (0, "", [])


def test_make_run_and_make_test_go_through_the_script() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "scripts/system-packages.sh $(RUN_PROGRAMS)" in makefile
    assert "scripts/system-packages.sh $(TEST_PROGRAMS)" in makefile
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "apt-get" not in ci


def test_named_packages_are_installed_without_looking_for_a_program(tmp_path: Path) -> None:
    # `make` asks for python3-venv when `python3 -m venv` fails (Debian splits it out).
    proc = run_script(machine(tmp_path, uid=0), "--packages", "python3-venv")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls(tmp_path) == ["apt-get install -y python3-venv"]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "scripts/system-packages.sh --packages python3-venv" in makefile
