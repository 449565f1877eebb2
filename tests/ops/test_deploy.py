"""deploy/: the systemd unit passes `systemd-analyze verify`, has what a service needs, and the
sample settings file is accepted by ivr as it stands; docs/production.md covers the checklist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.processes import REPO, run

UNIT = REPO / "deploy" / "ivr.service"
ENV_EXAMPLE = REPO / "deploy" / "ivr.env.example"
CALLS, FDS_PER_CALL = 1000, 3  # FastAGI, AudioSocket, a database connection


def unit_settings() -> dict[str, str]:
    settings = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian package systemd)")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify checks that ExecStart exists: point /opt/ivr at this checkout and its venv.
    unit = tmp_path / "ivr.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/ivr", str(REPO)),
                    encoding="utf-8")
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60, check=False)
    # A mistyped value is only a warning (exit 0), so any output at all is a failure.
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_unit_runs_ivr_serve_as_its_own_user_with_restarts_and_files_for_1000_calls() -> None:
    unit = unit_settings()
    assert unit["ExecStart"].endswith("/ivr serve")
    assert (unit["User"], unit["Group"]) == ("ivr", "ivr")
    assert unit["EnvironmentFile"] == "/etc/ivr/ivr.env"
    assert unit["Restart"] == "on-failure"
    assert int(unit["LimitNOFILE"]) >= 2 * CALLS * FDS_PER_CALL
    assert unit["ProtectSystem"] == "strict" and unit["NoNewPrivileges"] == "yes"
    assert unit["WorkingDirectory"] == "/var/lib/ivr" and unit["StateDirectory"] == "ivr"


def test_env_example_is_accepted_as_it_stands(tmp_path: Path) -> None:
    settings = dict(re.findall(r"^(IVR_[A-Z_]+)=(.*)$", ENV_EXAMPLE.read_text(encoding="utf-8"),
                               re.MULTILINE))
    assert "IVR_DATABASE_URL" in settings and "IVR_AMI_URL" in settings
    proc = run(tmp_path, "config", **settings)
    assert proc.returncode == 0, proc.stderr  # an unknown or malformed setting fails here
    assert re.search(r"IVR_LOG_FORMAT\s+json", proc.stdout)
    # The passwords in the database and AMI URLs are secrets: `ivr config` masks them.
    assert "CHANGE-ME" not in proc.stdout
    assert "postgresql://ivr:***@127.0.0.1:5432/ivr" in proc.stdout


def test_production_guide_covers_the_checklist() -> None:
    guide = (REPO / "docs" / "production.md").read_text(encoding="utf-8")
    for needed in ("PostgreSQL", "asterisk/manager_ivr.conf", "private network", "nginx",
                   "ssl_certificate", "pg_dump", "ivr db upgrade", "ivr check", "4573", "9092",
                   "5038", "443", "/api/ready", "IVR_LOG_FORMAT=json", "deploy/ivr.service"):
        assert needed in guide, needed
    assert "SIZING_" not in guide
