"""/api/health (live) and /api/ready (database, AMI, speech) over HTTP on a running `ivr serve`:
no token needed, 200 when ready, 503 naming the part that is not."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ivr.store.db import upgrade
from tests.conftest import create_pg_database, drop_pg_database
from tests.processes import IVR, Served, env_for, wait_for_log


def get(served: Served, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{served.ports['IVR_HTTP_PORT']}{path}", timeout=30)


def test_health_is_live_without_a_token(running: Served) -> None:
    response = get(running, "/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def speech_loaded(served: Served) -> None:
    """`ivr serve` takes calls at once and loads the speech engines after (test_startup_order)."""
    wait_for_log(served.log, "speech models: preload finished", 120)


def test_ready_when_database_ami_and_speech_are(running: Served) -> None:
    speech_loaded(running)
    response = get(running, "/api/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert {name: part["status"] for name, part in body["parts"].items()} == {
        "database": "ok", "ami": "ok", "speech": "ok"}


# Nothing listens on port 1: the AMI link cannot log in.
@pytest.mark.parametrize("server_env", [{"IVR_AMI_URL": "ami://ivr:s@127.0.0.1:1"}])
def test_not_ready_while_ami_is_down(running: Served) -> None:
    speech_loaded(running)
    response = get(running, "/api/ready")
    assert response.status_code == 503, response.text
    assert response.json()["failed"] == ["ami"]
    assert get(running, "/api/health").status_code == 200  # alive all the same


@pytest.fixture
def pg_served(tmp_path: Path, ports: dict[str, str]) -> Iterator[tuple[Served, str]]:
    url = create_pg_database()
    upgrade(url)
    log_path = tmp_path / "serve.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([IVR, "serve"], cwd=tmp_path,
                                env=env_for(tmp_path, **ports, IVR_DATABASE_URL=url),
                                stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_log(log_path, "admin API on", seconds=60)
        served = Served(proc, ports, tmp_path)
        speech_loaded(served)
        yield served, url
    finally:
        proc.kill()
        proc.wait()
        drop_pg_database(url)


@pytest.mark.postgres
def test_not_ready_when_the_database_goes_away(pg_served: tuple[Served, str]) -> None:
    served, url = pg_served
    assert get(served, "/api/ready").status_code == 200
    drop_pg_database(url)  # WITH (FORCE): the server's pooled connections are cut
    response = get(served, "/api/ready")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["failed"] == ["database"]
    assert body["parts"]["database"]["detail"]
