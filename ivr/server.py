"""`ivr serve`: FastAGI, AudioSocket, the admin HTTP API and the AMI link in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from ivr.admin.app import create_app
from ivr.calls import import_flows, make_call_handler
from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.netutil import bind_tcp, listen_error
from ivr.store.db import Database, check_connection, require_current, safe_url
from ivr.telephony.audiosocket_server import AudioSocketServer
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.fastagi import FastAgiServer

log = logging.getLogger("ivr.server")


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


async def _start_listener(server: FastAgiServer | AudioSocketServer | AmiEmulator,
                          what: str, host: str, port: int, setting: str) -> None:
    try:
        await server.start()
    except OSError as err:
        raise listen_error(what, host, port, setting, err) from None


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (Ctrl-C / SIGTERM), then let live calls finish and exit."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    db = await _check_database(settings.database_url)
    log.info("database %s is current", safe_url(settings.database_url))
    http_sock = bind_tcp("the admin API", settings.http_host, settings.http_port, "IVR_HTTP_PORT")

    await import_flows(db, settings)
    live = LiveContexts()  # transfer contexts: written by calls, read by the agent's screen (API)
    handler = make_call_handler(db, settings, live=live)
    agi = FastAgiServer(handler, settings.agi_host, settings.agi_port,
                        shutdown_grace=settings.shutdown_grace)
    media = AudioSocketServer(settings.audiosocket_host, settings.audiosocket_port)
    ami = None if settings.ami_url else AmiEmulator(agi_url=f"agi://{settings.agi_host}:0")
    app = create_app(settings, db)
    app.state.live_contexts = live
    http = _EmbeddedUvicorn(uvicorn.Config(app, log_level="warning", lifespan="off"))
    try:
        await _start_listener(agi, "FastAGI", settings.agi_host, settings.agi_port, "IVR_AGI_PORT")
        await _start_listener(media, "AudioSocket", settings.audiosocket_host,
                              settings.audiosocket_port, "IVR_AUDIOSOCKET_PORT")
        if ami is not None:
            await ami.start()
        http_task = asyncio.create_task(http.serve(sockets=[http_sock]), name="admin-http")
        _announce(settings, agi.port, media.port, ami)
        await stop.wait()
        log.info("stopping: live calls get %.0f s to finish", settings.shutdown_grace)
        http.should_exit = True
        await http_task
    finally:
        await agi.stop()
        await media.close()
        if ami is not None:
            await ami.stop()
        http_sock.close()
        db.dispose()
        log.info("stopped")


def _announce(settings: Settings, agi_port: int, media_port: int, ami: AmiEmulator | None) -> None:
    log.info("FastAGI listening on agi://%s:%d", settings.agi_host, agi_port)
    log.info("AudioSocket listening on %s:%d", settings.audiosocket_host, media_port)
    log.info("admin API on http://%s:%d/api", settings.http_host, settings.http_port)
    if ami is None:
        log.info("AMI: %s", settings.ami_url.split("@")[-1] if settings.ami_url else "")
    else:
        log.warning("*** IVR_AMI_URL is not set: outbound calls go to the built-in SIMULATED PBX "
                    "(AMI emulator on 127.0.0.1:%d), not to a real Asterisk ***", ami.port)
