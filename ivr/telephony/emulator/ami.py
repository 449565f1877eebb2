"""An asyncio TCP server that plays Asterisk's AMI side (used by `ivr serve`, `ivr call`, tests).

Usage::

    async with AmiEmulator(username="ivr", secret="s") as emu:
        emu.script("5550001", "busy")
        emu.on_answer = my_async_hook        # called with AnsweredCall when a call answers
        ... connect to ("127.0.0.1", emu.port) ...

Every action received is logged in ``emu.received`` (tests assert "no second Originate").

With ``config=AsteriskConfig.load()`` it plays an Asterisk that loaded our `asterisk/*.conf`:
only that dialplan exists (Originate to anything else: "Extension does not exist."; a Local
channel to a missing extension fails as the traces show), and only the users of manager*.conf
log in, each limited to its classes ("Permission denied", events filtered by read classes).
Without it: the lab dialplan of the traces plus a catch-all `ivr_context`, one all-rights user.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from types import TracebackType

from ivr.telephony.ami_codec import Message
from ivr.telephony.emulator.ami_call import EmulatedCall, OriginateRequest, Program
from ivr.telephony.emulator.ami_channels import Channel
from ivr.telephony.emulator.ami_script import (
    AnsweredHook,
    CallScript,
    Outcome,
    Scripts,
    dial_number,
)
from ivr.telephony.emulator.ami_session import AmiSession
from ivr.telephony.emulator.asterisk_config import AsteriskConfig
from ivr.telephony.emulator.dialplan_run import Position
from ivr.telephony.emulator.manager_users import ManagerUser

# Targets of the lab dialplan the traces were recorded with; `add_target` adds more.
LAB_TARGETS: dict[tuple[str, str], Program] = {
    ("ivr-trace", "park-here"): [("Answer", ""), ("Wait", "30")],
    ("ivr-trace", "playback"): [("Answer", ""), ("Playback", "hello-test")],
    ("ivr-trace", "agi"): [("AGI", "agi://127.0.0.1:4573/${AGI_SCRIPT}"),
                           ("NoOp", "AGISTATUS=${AGISTATUS}"), ("Hangup", "")],
}
# What the callee (the Local ;2 half in context caller-sim) runs once it has answered.
LAB_CALLEE: dict[str, Program] = {
    "hangup": [("Wait", "${CS_HANGUP_AFTER}"), ("Hangup", "")],
    "silent": [("Wait", "${CS_HOLD}")],
    "agi": [("AGI", "agi://127.0.0.1:4574/caller,${CS_ID}")],
}


RAISED_KEPT = 10_000
STOP_WAIT_S = 1.0  # how long stop() lets sessions notice their closed sockets

class AmiEmulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str = "ivr",
        secret: str = "ivrsecret",
        login_fail_delay: float = 1.0,
        time_scale: float = 1.0,
        on_answer: AnsweredHook | None = None,
        agi_url: str = "agi://127.0.0.1:4573",
        ivr_context: str = "ivr",
        config: AsteriskConfig | None = None,
    ) -> None:
        self.host, self._port = host, port
        self.config = config
        self.users: dict[str, ManagerUser] = (
            config.users if config else {username: ManagerUser(username, secret)})
        self.login_fail_delay = login_fail_delay
        self.time_scale = time_scale
        self.on_answer = on_answer
        self.agi_url = agi_url
        self.scripts = Scripts(lab_names=config is None)  # a loaded dialplan decides alone
        self.targets: dict[tuple[str, str], Program] = {} if config else dict(LAB_TARGETS)
        # Any exten of the IVR context runs AGI to our FastAGI server (the hook plays it).
        self.contexts: dict[str, Program] = (
            {} if config else {ivr_context: [("AGI", f"{agi_url}/${{EXTEN}}")]})
        self.global_vars: dict[str, str] = (
            config.dialplan.globals if config else {"FASTAGI": agi_url})
        self.received: list[Message] = []
        # Every event raised, whoever may read it (tests ask "did the channel reach Queue()"
        # of events the least-privilege user never sees); bounded for a long `ivr serve`.
        self.raised: deque[Message] = deque(maxlen=RAISED_KEPT)
        self._action_seen = asyncio.Event()
        self.calls: set[EmulatedCall] = set()
        self.processed = 0
        self.started_at = time.time()
        self._channels: dict[str, tuple[Channel, EmulatedCall]] = {}
        self._sessions: set[AmiSession] = set()
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seq = itertools.count(1)
        self._uid = itertools.count(1)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the listener, every connection and every call (an Asterisk restart)."""
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        if self._conn_tasks:  # let each session see its closed socket and end by itself
            await asyncio.wait(list(self._conn_tasks), timeout=STOP_WAIT_S)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> AmiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    def drop_connections(self) -> None:
        """Cut every client connection at once (the link drops; calls go on)."""
        for session in list(self._sessions):
            session.close()

    # -- scripting ------------------------------------------------------------------------
    def script(
        self, pattern: str, outcome: Outcome | str, *, ring_ms: int = 0, answer_ms: int = 0,
        talk_ms: int | None = None,
    ) -> None:
        """Calls whose number or dial string matches `pattern` (fnmatch) end in `outcome`."""
        self.scripts.add(pattern, CallScript(Outcome(outcome), ring_ms, answer_ms, talk_ms))

    def set_default(self, outcome: Outcome | str, **kw: int | None) -> None:
        self.scripts.default = CallScript(Outcome(outcome), **kw)  # type: ignore[arg-type]

    def add_target(self, context: str, exten: str, program: Program) -> None:
        self.targets[(context, exten)] = program

    def actions(self, name: str) -> list[Message]:
        return [m for m in self.received if (m.get("Action") or "").lower() == name.lower()]

    def log_action(self, msg: Message) -> None:
        self.received.append(msg)
        self._action_seen.set()

    async def wait_for_action(self, name: str, count: int = 1) -> None:
        """Until `count` actions called `name` have been received (wrap in a timeout)."""
        while len(self.actions(name)) < count:
            self._action_seen.clear()
            await self._action_seen.wait()

    # -- used by sessions and calls -------------------------------------------------------
    def check_login(self, user: str, secret: str, address: str) -> ManagerUser | None:
        found = self.users.get(user)
        if found is None or found.secret != secret or not found.permits(address):
            return None
        return found

    def emit(self, msg: Message) -> None:
        self.raised.append(msg)
        for session in list(self._sessions):
            session.event(msg)

    def new_uniqueid(self) -> str:
        return f"{int(self.started_at)}.{next(self._uid)}"

    def add_channel(self, ch: Channel, call: EmulatedCall) -> None:
        self._channels[ch.name] = (ch, call)

    def remove_channel(self, ch: Channel) -> None:
        self._channels.pop(ch.name, None)

    def channel(self, name: str) -> Channel | None:
        hit = self._channels.get(name)
        return None if hit is None or hit[0].hung_up else hit[0]

    def live_channels(self) -> list[Channel]:
        return [ch for ch, _ in self._channels.values() if not ch.hung_up]

    def hangup_channel(self, ch: Channel, cause: int) -> None:
        hit = self._channels.get(ch.name)
        if hit is not None:
            hit[1].request_hangup(ch, cause)

    def extension_exists(self, context: str, exten: str, priority: int = 1) -> bool:
        if (context, exten) in self.targets or context in self.contexts:
            return True
        return self.config is not None and self.config.dialplan.exists(context, exten, priority)

    def _program(self, context: str, exten: str, priority: int) -> Program:
        found = self.targets.get((context, exten)) or self.contexts.get(context)
        if found is not None:
            return found
        assert self.config is not None
        ext = self.config.dialplan.find(context, exten)
        assert ext is not None  # checked by the Originate action
        return ext.program(priority)

    def position(self, context: str, exten: str, priority: int) -> Position | None:
        """Where a channel sent to context/exten/priority starts in the loaded dialplan (its
        Goto()s then move it); None for a lab target, whose steps just run in order."""
        if self.config is None or (context, exten) in self.targets or context in self.contexts:
            return None
        return Position(self.config.dialplan, context, exten, priority)

    def _local_missing(self, dial_string: str) -> bool:
        """A Local channel whose extension the loaded dialplan lacks (local_call refuses it)."""
        if self.config is None or not dial_string.lower().startswith("local/"):
            return False
        context = dial_string.partition("@")[2].partition("/")[0] or "default"
        return not self.extension_exists(context, dial_number(dial_string))

    def start_call(self, req: OriginateRequest) -> EmulatedCall:
        script = self.scripts.lookup(req.channel)
        if self._local_missing(req.channel):
            script = CallScript(Outcome.NO_SUCH_EXTENSION)
        number = req.channel.partition("/")[2].partition("@")[0]
        callee = LAB_CALLEE.get(number) if req.channel.startswith("Local/") else None
        if callee is None:
            talk = script.talk_ms
            callee = [("Wait", "")]
            if talk is not None:
                callee = [("Wait", str(talk / 1000)), ("Hangup", "")]
        target: Program | None = None
        if not req.application:
            target = self._program(req.context, req.exten, int(req.priority or 1))
        call = EmulatedCall(self, req, script, next(self._seq), callee, target)
        self.calls.add(call)
        self.processed += 1
        task = asyncio.create_task(call.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _t: self.calls.discard(call))
        return call

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self._sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)
            if task is not None:
                self._conn_tasks.discard(task)
