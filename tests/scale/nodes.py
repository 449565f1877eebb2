"""Several `ivr serve` processes on one database, and emulated calls placed to each of them."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from ivr.phone import make_emulator
from ivr.store.db import Database
from ivr.store.models import InteractionRow
from ivr.store.repositories.tokens import TokenRepository
from ivr.telephony.emulator.agi_caller import Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from tests.processes import IVR, env_for, free_port

PORTS = ("IVR_AGI_PORT", "IVR_HTTP_PORT", "IVR_AUDIOSOCKET_PORT")


@dataclass
class Node:
    name: str
    proc: subprocess.Popen[str]
    ports: dict[str, str]
    log: Path

    @property
    def agi_url(self) -> str:
        return f"agi://127.0.0.1:{self.ports['IVR_AGI_PORT']}"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['IVR_HTTP_PORT']}/api"

    def kill(self) -> None:
        """SIGKILL: no `finally`, no shutdown grace, the way a node dies when its host does."""
        self.proc.kill()
        self.proc.wait()


def _start(url: str, folder: Path, name: str, settings: dict[str, str]) -> Node:
    folder.mkdir(parents=True, exist_ok=True)
    ports = {port: str(free_port()) for port in PORTS}
    log = folder / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [IVR, "serve"], cwd=folder,
            env=env_for(folder, IVR_DATABASE_URL=url, IVR_DIALER_NAME=name, **ports, **settings),
            stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    return Node(name, proc, ports, log)


@contextlib.contextmanager
def running_nodes(url: str, folder: Path, names: Sequence[str], **settings: str
                  ) -> Iterator[list[Node]]:
    """`ivr serve` per name, all started at once on database `url` (as a deployment restarts
    every node together), each with its own ports; yields once all of them take calls."""
    nodes = [_start(url, folder / name, name, settings) for name in names]
    try:
        for node in nodes:
            _wait_ready(node)
        yield nodes
    finally:
        for node in nodes:
            if node.proc.poll() is None:
                node.kill()


def _wait_ready(node: Node, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = node.log.read_text(encoding="utf-8")
        if "admin API on" in text:
            return
        if node.proc.poll() is not None:
            raise AssertionError(f"node {node.name} exited {node.proc.returncode}:\n{text}")
        time.sleep(0.05)  # polling a file another process writes; nothing to await here
    raise AssertionError(f"node {node.name} not ready in {seconds} s:\n{text}")


def admin_token(db: Database) -> dict[str, str]:
    _, secret = TokenRepository(db).create("two-nodes test", "admin")
    return {"Authorization": f"Bearer {secret}"}


def publish(node: Node, headers: dict[str, str], name: str, yaml: str, *, route: str = ""
            ) -> int:
    """Save `yaml` as a new version of flow `name` through the node's admin API, publish it
    and, given `route`, route that number to it (publishing does not apply `routes:`)."""
    with httpx.Client(base_url=node.api, headers=headers, timeout=30) as http:
        saved = http.post(f"/flows/{name}/versions", json={"yaml": yaml})
        assert saved.status_code == 201 and saved.json()["issues"] == [], saved.text
        number = int(saved.json()["version"])
        published = http.post(f"/flows/{name}/publish", json={"version": number})
        assert published.status_code == 200, published.text
        if route:
            routed = http.put(f"/routes/{route}", json={"flow": name})
            assert routed.status_code == 200, routed.text
    return number


def caller(node: Node, dnis: str, steps: Sequence[Step] = (), number: str = "+15551230001"
           ) -> AgiEmulator:
    """An emulated Asterisk call to the node's FastAGI port (prompts last 300 ms each)."""
    return make_emulator(node.agi_url, caller_id=number, dnis=dnis, steps=steps,
                         prompts=lambda _name: 2400)


def interactions(db: Database) -> list[InteractionRow]:
    with db.session() as s:
        return list(s.scalars(select(InteractionRow).order_by(InteractionRow.id)))


async def eventually(predicate: object, what: str, seconds: float = 30.0) -> None:
    """Poll a sync condition on the database (written by other processes) until it holds."""
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + seconds
    while not await asyncio.to_thread(predicate):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.1)  # other processes write the state; nothing to await here
