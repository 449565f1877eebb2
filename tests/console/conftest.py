"""The console end to end: the real app under uvicorn on a loopback port, driven by Debian's
headless Chromium through Playwright (never `playwright install`: the system browser is used).

Every page a test opens collects console messages and page errors; `Browse.check()` fails the
test on any. Screenshots go to artifacts/console/.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, Response, sync_playwright

from ivr.admin.app import create_app
from ivr.campaigns.dialer import Dialer, DialerConfig
from ivr.campaigns.notify_flow import NotifyFlow
from ivr.config import Settings
from ivr.flows.files import import_dialplans
from ivr.phone import prompt_lookup
from ivr.store.db import Database, upgrade
from ivr.store.demo import load_demo
from ivr.store.repositories.tokens import TokenRepository
from ivr.telephony.ami import AmiClient
from ivr.telephony.emulator.pbx import USERNAME, SimulatedPbx
from ivr.telephony.fastagi import FastAgiServer

REPO = Path(__file__).parents[2]
ARTIFACTS = REPO / "artifacts" / "console"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
TIMEOUT_MS = 15_000


@dataclass
class Console:
    base: str
    db: Database
    tokens: dict[str, str]


def dialer_clock() -> Callable[[], datetime]:
    """The dialer's clock: runs from the next 17:00 UTC (noon in New York, inside the calling
    window; 02:00 in Tokyo, outside it), whatever the wall clock says, and never behind it, so
    contacts imported now are already due."""
    started = datetime.now(UTC)
    base = started.replace(hour=17, minute=0, second=0, microsecond=0)
    if base < started:
        base += timedelta(days=1)
    return lambda: base + (datetime.now(UTC) - started)


async def _run_dialer(db: Database, stop: asyncio.Event) -> None:
    """What `ivr serve` runs beside the API: the dialer, our FastAGI for the answered legs, and
    the simulated PBX (callees listen and press 1)."""
    agi = FastAgiServer(NotifyFlow(db).handle, "127.0.0.1", 0, shutdown_grace=1.0)
    await agi.start()
    pbx = SimulatedPbx(f"agi://127.0.0.1:{agi.port}", prompts=prompt_lookup(REPO / "prompts", "en"))
    await pbx.start()
    ami = AmiClient("127.0.0.1", pbx.port, USERNAME, pbx.secret)
    config = DialerConfig(owner="console-e2e", poll_s=0.2)
    dialer = Dialer(db, ami, config, clock=dialer_clock())
    await dialer.start()
    try:
        await stop.wait()
    finally:
        await dialer.stop()
        await ami.close()
        await pbx.stop()
        await agi.stop()


class DialerThread(threading.Thread):
    def __init__(self, db: Database) -> None:
        super().__init__(name="console-dialer")
        self.db = db
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()

    def run(self) -> None:
        self.loop.run_until_complete(_run_dialer(self.db, self.stop_event))
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.join(15)


@pytest.fixture(scope="session")
def console_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'ivr.db'}"
    upgrade(url)
    db = Database(url)
    import_dialplans(db, REPO / "dialplans", publish="missing")
    load_demo(db)  # customers with a contact history: reports and journeys have data
    tokens = TokenRepository(db)
    roles = ("viewer", "operator", "admin")
    secrets = {role: tokens.create(f"{role}-e2e", role)[1] for role in roles}
    app = create_app(Settings(database_url=url, prompts_dir=REPO / "prompts"), db)
    # A socket we bound and listen on: connections queue in its backlog until uvicorn accepts,
    # so nothing has to wait for the server to come up.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    dialer = DialerThread(db)
    dialer.start()
    try:
        yield Console(f"http://127.0.0.1:{sock.getsockname()[1]}", db, secrets)
    finally:
        dialer.stop()
        server.should_exit = True
        thread.join(10)
        sock.close()
        db.dispose()


# Per module, not per session: sync Playwright keeps an event loop of its own on this thread
# while it is open, which would upset the asyncio tests of other packages run after these.
@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")  # fresh per launch
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class Browse:
    """One tab with its console messages and page errors collected."""

    page: Page
    base: str
    problems: list[str] = field(default_factory=list)

    def go(self, path: str) -> Response | None:
        return self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self) -> None:
        assert self.problems == [], "browser console errors/warnings"

    def login(self, secret: str) -> None:
        self.go("/console/login")
        self.page.fill("#token", secret)
        self.page.press("#token", "Enter")
        self.page.wait_for_url("**/console/flows")


@pytest.fixture
def tab(browser: BrowserContext, console_app: Console) -> Iterator[Browse]:
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    browse = Browse(page, console_app.base)
    page.on("console", lambda m: browse.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: browse.problems.append(f"page error: {e}"))
    try:
        yield browse
    finally:
        page.close()
