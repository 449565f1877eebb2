"""`ivr serve`: FastAGI, AudioSocket, the admin HTTP API and the AMI link in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from urllib.parse import unquote, urlsplit

import uvicorn

from ivr import metrics
from ivr.admin.app import create_app
from ivr.call.media import MediaPath
from ivr.calls import import_flows, logged_calls, make_call_handler
from ivr.campaigns.service import make_dialer, with_notify
from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.netutil import bind_tcp, listen_error
from ivr.nodes import NodeWatch, node_name
from ivr.phone import prompt_lookup
from ivr.store.db import Database, check_connection, require_current, safe_url
from ivr.telephony.ami import AmiClient
from ivr.telephony.audiosocket_server import AudioSocketServer
from ivr.telephony.emulator.pbx import USERNAME, SimulatedPbx
from ivr.telephony.fastagi import FastAgiServer

log = logging.getLogger("ivr.server")
AMI_PORT = 5038
LANGUAGES = ("en", "ru")


class _EmbeddedUvicorn(uvicorn.Server):
    """uvicorn inside our loop: signals are ours, so every service stops in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _check_database(url: str) -> Database:
    await asyncio.to_thread(check_connection, url)
    await asyncio.to_thread(require_current, url)
    return Database(url)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


Closer = Callable[[], Awaitable[None]]


async def _listen(stack: contextlib.AsyncExitStack, start: Closer, stop: Closer, what: str,
                  host: str, port: int, setting: str) -> None:
    try:
        await start()
    except OSError as err:
        raise listen_error(what, host, port, setting, err) from None
    stack.push_async_callback(stop)


def _media_path(settings: Settings, server: AudioSocketServer) -> MediaPath:
    """Speech for calls: the AudioSocket address Asterisk dials and the recognizers (loaded
    by `_preload` once every listener is up)."""
    host = settings.audiosocket_advertise or (
        f"{_reachable(settings.audiosocket_host)}:{server.port}")
    return MediaPath.from_settings(server, host, settings)


async def _preload(stack: contextlib.AsyncExitStack, path: MediaPath) -> None:
    """Load the speech engines in the background, not on the first caller and not before
    FastAGI listens: loading takes seconds (14-17 s on the lab) and calls arriving meanwhile
    (notify calls answered right after a restart) must not be refused. A speech turn waits
    for its engine (bounded); keys work at once. A language without an engine is one line
    naming the fix."""

    async def load() -> None:
        started = time.monotonic()
        for problem in await path.preload(LANGUAGES):
            log.warning("%s", problem)
        log.info("speech models: preload finished in %.1f s", time.monotonic() - started)

    task = asyncio.create_task(load(), name="speech-preload")

    async def cancel() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(cancel)


async def _join(stack: contextlib.AsyncExitStack, db: Database, settings: Settings) -> str:
    """Beat as this node before any call is taken (several nodes may share the database);
    stopped last, after the calls have ended."""
    watch = NodeWatch(db, node_name(settings), heartbeat=settings.node_heartbeat_seconds,
                      dead_after=settings.node_dead_seconds)
    await watch.start()
    stack.push_async_callback(watch.stop)
    log.info("node %s: heartbeat every %g s, taken for dead after %g s", watch.name,
             settings.node_heartbeat_seconds, settings.node_dead_seconds)
    return watch.name


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


async def _ami_link(stack: contextlib.AsyncExitStack, settings: Settings, agi_port: int
                    ) -> tuple[AmiClient, SimulatedPbx | None]:
    """The dialer's AMI: the configured Asterisk, or the built-in simulated PBX whose answered
    calls come back to our own FastAGI server."""
    pbx = None
    if settings.ami_url:
        url = urlsplit(settings.ami_url)
        client = AmiClient(url.hostname or "", url.port or AMI_PORT, unquote(url.username or ""),
                           unquote(url.password or ""))
    else:
        pbx = SimulatedPbx(f"agi://{_reachable(settings.agi_host)}:{agi_port}",
                           prompts=prompt_lookup(settings.prompts_dir, "en"))
        await pbx.start()
        stack.push_async_callback(pbx.stop)
        client = AmiClient("127.0.0.1", pbx.port, USERNAME, pbx.secret)
    stack.push_async_callback(client.close)
    return client, pbx


async def serve(settings: Settings, stop: asyncio.Event | None = None, *,
                on_ready: Callable[[], None] | None = None) -> None:
    """Run until `stop` is set (Ctrl-C / SIGTERM), then let live calls finish and exit;
    `on_ready` runs once every listener is up."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    db = await _check_database(settings.database_url)
    metrics.time_statements(db.engine)
    metrics.count_errors()
    log.info("database %s is current", safe_url(settings.database_url))
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(log.info, "stopped")
        stack.callback(db.dispose)
        stack.callback(metrics.watch_loop().cancel)
        http_sock = bind_tcp("the admin API", settings.http_host, settings.http_port,
                             "IVR_HTTP_PORT")
        stack.callback(http_sock.close)
        await import_flows(db, settings)
        node = await _join(stack, db, settings)
        media = AudioSocketServer(settings.audiosocket_host, settings.audiosocket_port)
        await _listen(stack, media.start, media.close, "AudioSocket", settings.audiosocket_host,
                      settings.audiosocket_port, "IVR_AUDIOSOCKET_PORT")
        speech = _media_path(settings, media)
        # Transfer contexts: written by calls, read by the agent's screen through any node.
        live = LiveContexts(db)
        inbound = make_call_handler(db, settings, live=live, media=speech, node=node)
        handler = logged_calls(with_notify(db, inbound, media=speech))
        agi = FastAgiServer(handler, settings.agi_host, settings.agi_port,
                            shutdown_grace=settings.shutdown_grace,
                            max_connections=settings.agi_max_connections,
                            max_per_peer=settings.agi_max_connections_per_peer)
        await _listen(stack, agi.start, agi.stop, "FastAGI", settings.agi_host,
                      settings.agi_port, "IVR_AGI_PORT")
        ami, pbx = await _ami_link(stack, settings, agi.port)
        dialer = make_dialer(db, settings, ami)
        await dialer.start()
        stack.push_async_callback(dialer.stop)
        app = create_app(settings, db)
        app.state.live_contexts, app.state.dialer = live, dialer
        app.state.ami, app.state.media = ami, speech  # for /api/ready
        # log_config=None: uvicorn logs through our handler (JSON when IVR_LOG_FORMAT=json).
        config = uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None)
        http = _EmbeddedUvicorn(config)
        http_task = asyncio.create_task(http.serve(sockets=[http_sock]), name="admin-http")
        _announce(settings, agi.port, media.port, pbx)
        await _preload(stack, speech)
        if on_ready is not None:
            on_ready()
        await stop.wait()
        log.info("stopping: live calls get %.0f s to finish", settings.shutdown_grace)
        http.should_exit = True
        await http_task


def _announce(settings: Settings, agi_port: int, media_port: int, pbx: SimulatedPbx | None
              ) -> None:
    log.info("FastAGI listening on agi://%s:%d", settings.agi_host, agi_port)
    log.info("AudioSocket listening on %s:%d", settings.audiosocket_host, media_port)
    log.info("admin API on http://%s:%d/api (console at /console/)", settings.http_host,
             settings.http_port)
    if pbx is None:
        log.info("dialer: AMI at %s", (settings.ami_url or "").split("@")[-1])
    else:
        log.warning("*** IVR_AMI_URL is not set: outbound calls go to the built-in SIMULATED PBX "
                    "(AMI emulator on 127.0.0.1:%d), not to a real Asterisk ***", pbx.port)
