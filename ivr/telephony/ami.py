"""AMI client: login, actions, events, keep-alive, reconnect, and Originate with outcomes.

Our own asyncio stream client on the shared codec (``ami_codec``) rather than panoramisk's
Manager: panoramisk re-queues actions that had no answer when the link drops and sends them again
after the next login (an Originate would dial twice), turns a refused login into an endless
silent reconnect loop, and tracks originates by Uniqueid, which a failed originate reports as
``<unknown>``. Here an Originate is written once; if the link drops before its outcome, the
outcome is ``LINK_LOST`` and nothing is re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import logging
import secrets
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ivr.telephony.ami_codec import AmiParser, HeaderInput, Message, encode_action
from ivr.telephony.ami_originate import OriginateHandle, new_channel_ids
from ivr.telephony.ami_responses import AmiResponse, EventCallback, EventStream, Pending
from ivr.telephony.errors import (
    AmiActionError,
    AmiConnectionError,
    AmiLoginError,
    AmiProtocolError,
)

log = logging.getLogger(__name__)


class _Link:
    """One TCP connection: the reader task routes responses and events."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = AmiParser()
        self.closed = asyncio.Event()
        self.reader_task: asyncio.Task[None] | None = None


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        *,
        events: bool = True,
        ping_interval: float = 20.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        reconnect: bool = True,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.host, self.port, self.username, self._secret = host, port, username, secret
        self.events_on = events
        self.ping_interval, self.action_timeout = ping_interval, action_timeout
        self.connect_timeout, self.reconnect = connect_timeout, reconnect
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self._ids = itertools.count(1)
        self._link: _Link | None = None
        self._pending: dict[str, Pending] = {}
        self._originates: dict[str, OriginateHandle] = {}  # by ActionID
        self._by_channel: dict[str, OriginateHandle] = {}  # by our ChannelId / OtherChannelId
        # Asterisk sends OriginateResponse to every AMI session: ActionIDs must be unique across
        # processes, or one dialer would take another's outcome as its own.
        self._prefix = f"ivr-{secrets.token_hex(4)}"
        self._subscribers: list[tuple[str, EventCallback]] = []
        self._connected = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.connections = 0  # successful logins so far (1 + reconnects)

    # -- lifecycle ------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect and log in once; raises AmiLoginError / AmiConnectionError. Then keeps the
        link up (Ping, reconnect with back-off) until close()."""
        await self._open()
        self._supervisor = asyncio.create_task(self._supervise())

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.wait([self._supervisor])
        link = self._link
        if link is not None:
            link.writer.close()
            with contextlib.suppress(ConnectionError):
                await link.writer.wait_closed()
        self._lost("AMI client closed")

    async def __aenter__(self) -> AmiClient:
        await self.connect()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        await self._connected.wait()

    async def wait_disconnected(self) -> None:
        await self._disconnected.wait()

    async def _open(self) -> None:
        where = f"{self.host}:{self.port}"
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError) as exc:
            raise AmiConnectionError(f"cannot connect to AMI at {where}: {exc}") from exc
        link = _Link(reader, writer)
        self._link = link
        link.reader_task = asyncio.create_task(self._read(link))
        headers = {"Username": self.username, "Secret": self._secret,
                   "Events": "on" if self.events_on else "off"}
        try:
            resp = await self._send(link, "Login", headers, check=False)
        except AmiConnectionError:
            writer.close()
            raise
        if not resp.ok:
            writer.close()
            raise AmiLoginError(
                f"AMI login refused for user {self.username!r} at {where}: "
                f"{resp.message or 'no reason given'}")
        self.connections += 1
        self._disconnected.clear()
        self._connected.set()

    async def _supervise(self) -> None:
        delay = self.backoff_initial
        while not self._closing:
            link = self._link
            if link is not None:
                await self._keepalive(link)
            if not self.reconnect or self._closing:
                return
            try:
                await self._open()
                delay = self.backoff_initial
            except (AmiConnectionError, AmiLoginError) as exc:
                log.warning("AMI reconnect failed (%s); next try in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)

    async def _keepalive(self, link: _Link) -> None:
        while not link.closed.is_set() and not self._closing:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.ping_interval):
                    await link.closed.wait()
                return
            try:
                await self._send(link, "Ping", (), check=False)
            except AmiConnectionError:
                link.writer.close()  # no Pong in time: treat the link as dead
                await link.closed.wait()

    # -- reading --------------------------------------------------------------------------
    async def _read(self, link: _Link) -> None:
        try:
            while data := await link.reader.read(65536):
                for item in link.parser.feed(data):
                    if isinstance(item, Message):
                        self._route(item)
        except (ConnectionError, AmiProtocolError) as exc:
            log.warning("AMI link error: %s", exc)
        finally:
            link.closed.set()
            link.writer.close()
            if self._link is link:
                self._lost("AMI link lost")

    def _lost(self, why: str) -> None:
        self._connected.clear()
        self._disconnected.set()
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if not p.future.done():
                p.future.set_exception(AmiConnectionError(why))
        originates, self._originates = self._originates, {}
        self._by_channel = {}
        for handle in originates.values():
            handle.link_lost()

    def _route(self, msg: Message) -> None:
        aid = msg.action_id
        pending = self._pending.get(aid) if aid is not None else None
        if msg.kind == "response" and pending is not None:
            result = AmiResponse(msg)
            if (msg.get("EventList") or "").lower() == "start":
                pending.result = result  # list action: wait for the Complete event
                return
            self._complete(aid, result)
            return
        if msg.kind != "event":
            return
        if pending is not None and pending.result is not None:
            pending.result.events.append(msg)
            if (msg.get("EventList") or "").lower() == "complete":
                self._complete(aid, pending.result)
            return
        self._dispatch(msg)

    def _complete(self, aid: str | None, result: AmiResponse) -> None:
        pending = self._pending.pop(aid or "", None)
        if pending is not None and not pending.future.done():
            pending.future.set_result(result)

    def _dispatch(self, msg: Message) -> None:
        handle = self._handle_for(msg)
        if handle is not None:
            handle.on_event(msg)
            if handle.finished:
                self._forget(handle)
        for pattern, callback in list(self._subscribers):
            if fnmatch.fnmatchcase(msg.name.lower(), pattern.lower()):
                try:
                    ret = callback(msg)
                    if ret is not None:
                        task = asyncio.ensure_future(ret)
                        task.add_done_callback(_log_failure)
                except Exception:
                    log.exception("AMI event subscriber failed on %s", msg.name)

    def _handle_for(self, msg: Message) -> OriginateHandle | None:
        """The originate an event belongs to: OriginateResponse by its ActionID, channel events
        by the Uniqueid (our ChannelId / OtherChannelId)."""
        if msg.name == "OriginateResponse":
            return self._originates.get(msg.action_id or "")
        return self._by_channel.get(msg.get("Uniqueid") or "")

    def _track(self, handle: OriginateHandle) -> None:
        self._originates[handle.action_id] = handle
        self._by_channel[handle.channel_id] = handle
        self._by_channel[handle.other_channel_id] = handle

    def _forget(self, handle: OriginateHandle) -> None:
        self._originates.pop(handle.action_id, None)
        self._by_channel.pop(handle.channel_id, None)
        self._by_channel.pop(handle.other_channel_id, None)

    # -- sending --------------------------------------------------------------------------
    async def _send(
        self, link: _Link, action: str, headers: HeaderInput, *, check: bool,
        wait_s: float | None = None,
    ) -> AmiResponse:
        aid = f"{self._prefix}-{next(self._ids)}"
        data = encode_action(action, headers, action_id=aid)
        future: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        self._pending[aid] = Pending(action, future)
        try:
            link.writer.write(data)
            async with asyncio.timeout(wait_s or self.action_timeout):
                resp = await future
        except TimeoutError as exc:
            raise AmiConnectionError(f"no AMI response to {action} in time") from exc
        finally:
            self._pending.pop(aid, None)
        if check and not resp.ok:
            raise AmiActionError(f"AMI {action} failed: {resp.message or resp.response.name}")
        return resp

    def _current(self) -> _Link:
        if self._link is None or not self.connected:
            raise AmiConnectionError("AMI link is down")
        return self._link

    async def send_action(
        self, action: str, headers: HeaderInput = (), *, check: bool = True,
        wait_s: float | None = None,
    ) -> AmiResponse:
        """Send one action; list actions return their events too. ``check`` raises
        AmiActionError on ``Response: Error``."""
        return await self._send(self._current(), action, headers, check=check, wait_s=wait_s)

    def subscribe(self, callback: EventCallback, pattern: str = "*") -> Callable[[], None]:
        """Call ``callback(event)`` (sync or async) for events whose name matches ``pattern``.
        Returns the function that unsubscribes."""
        entry = (pattern, callback)
        self._subscribers.append(entry)
        return lambda: self._subscribers.remove(entry) if entry in self._subscribers else None

    def events(self, pattern: str = "*", *, maxsize: int = 10000) -> EventStream:
        return EventStream(self, pattern, maxsize)

    # -- actions --------------------------------------------------------------------------
    async def ping(self) -> None:
        await self.send_action("Ping")

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int = 1,
        application: str | None = None,
        data: str | None = None,
        caller_id: str | None = None,
        timeout_ms: int = 30000,
        variables: dict[str, str] | None = None,
        account: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
    ) -> OriginateHandle:
        """Send one Async Originate. Never re-sent: a dropped link gives LINK_LOST."""
        link = self._current()
        a_id, b_id = new_channel_ids()
        aid = f"{self._prefix}-orig-{next(self._ids)}"
        handle = OriginateHandle(aid, channel_id or a_id, other_channel_id or b_id)
        headers: list[tuple[str, str]] = [("Channel", channel)]
        if application:
            headers += [("Application", application), ("Data", data or "")]
        else:
            headers += [("Context", context or ""), ("Exten", exten or ""),
                        ("Priority", str(priority))]
        if caller_id:
            headers.append(("CallerID", caller_id))
        headers.append(("Timeout", str(timeout_ms)))
        headers += [("Variable", f"{k}={v}") for k, v in (variables or {}).items()]
        headers += [("ChannelId", handle.channel_id), ("OtherChannelId", handle.other_channel_id)]
        if account:
            headers.append(("Account", account))
        headers.append(("Async", "true"))
        payload = encode_action("Originate", headers, action_id=aid)  # may raise AmiEncodeError
        future: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        self._pending[aid] = Pending("Originate", future)
        self._track(handle)
        link.writer.write(payload)
        asyncio.create_task(self._originate_ack(handle, future)).add_done_callback(_log_failure)
        return handle

    async def _originate_ack(self, handle: OriginateHandle, future: asyncio.Future[AmiResponse]
                             ) -> None:
        try:
            async with asyncio.timeout(self.action_timeout):
                resp = await future
        except (AmiConnectionError, TimeoutError):
            handle.link_lost()  # unknown whether Asterisk dials; never send it again
            self._forget(handle)
            return
        finally:
            self._pending.pop(handle.action_id, None)
        if not resp.ok:
            handle.refused(resp.message)
            self._forget(handle)

    async def core_show_channels(self) -> list[Message]:
        resp = await self.send_action("CoreShowChannels")
        return [e for e in resp.events if e.name == "CoreShowChannel"]

    async def getvar(self, variable: str, channel: str | None = None) -> str:
        headers = ([("Channel", channel)] if channel else []) + [("Variable", variable)]
        resp = await self.send_action("Getvar", headers)
        return resp.get("Value") or ""

    async def setvar(self, variable: str, value: str, channel: str | None = None) -> None:
        headers = ([("Channel", channel)] if channel else []) + [("Variable", variable),
                                                               ("Value", value)]
        await self.send_action("Setvar", headers)

    async def hangup(self, channel: str, cause: int = 16) -> AmiResponse:
        return await self.send_action("Hangup", [("Channel", channel), ("Cause", str(cause))])


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("AMI background task failed", exc_info=task.exception())


__all__ = ["AmiClient", "AmiResponse", "EventStream"]
