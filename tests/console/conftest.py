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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import BrowserContext, Page, Response, sync_playwright

from ivr.admin.app import create_app
from ivr.config import Settings
from ivr.flows.files import import_dialplans
from ivr.store.db import Database, upgrade
from ivr.store.demo import load_demo
from ivr.store.repositories.tokens import TokenRepository

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
    try:
        yield Console(f"http://127.0.0.1:{sock.getsockname()[1]}", db, secrets)
    finally:
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
