"""Without PostgreSQL the [postgres] tests skip, unless IVR_REQUIRE_POSTGRES=1 makes them fail."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/store/test_audit.py::test_write_without_detail_stores_empty_mapping"


def _run_without_postgres(require: bool) -> subprocess.CompletedProcess[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ)
    env["IVR_TEST_POSTGRES_URL"] = f"postgresql://postgres@127.0.0.1:{port}/test"
    env.pop("IVR_REQUIRE_POSTGRES", None)
    if require:
        env["IVR_REQUIRE_POSTGRES"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rsf", "-p", "no:cacheprovider", TARGET],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_postgres_tests_skip_with_reason_when_server_is_unreachable() -> None:
    result = _run_without_postgres(require=False)

    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "PostgreSQL unavailable" in result.stdout


def test_postgres_tests_fail_when_required_and_server_is_unreachable() -> None:
    result = _run_without_postgres(require=True)

    assert result.returncode == 1, result.stdout
    assert "1 passed" in result.stdout
    assert "IVR_REQUIRE_POSTGRES=1" in result.stdout
