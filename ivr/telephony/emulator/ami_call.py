"""One emulated Originate: the Local channel pair, its event sequence and its outcome.

Event contents and per-channel order follow the ami-originate-*.txt traces. The ``;1`` leg is
the IVR side (runs the Originate target), ``;2`` the callee (runs the scripted outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Protocol

from ivr.telephony.ami_codec import Message
from ivr.telephony.emulator.ami_channels import (
    Channel,
    cdr_event,
    chan_event,
    device_state,
    dial_event,
    hangup_event,
    local_bridge,
    newexten,
    varset,
)
from ivr.telephony.emulator.ami_outcomes import play_outcome
from ivr.telephony.emulator.ami_script import AnsweredCall, AnsweredHook, CallScript, Outcome
from ivr.telephony.emulator.dialplan_run import Position

KNOWN_TECHS = {"local", "pjsip", "sip", "iax2", "dahdi"}
Program = list[tuple[str, str]]
FOREVER = ""


class CallHost(Protocol):
    time_scale: float
    on_answer: AnsweredHook | None
    agi_url: str
    global_vars: dict[str, str]

    def emit(self, msg: Message) -> None: ...
    def new_uniqueid(self) -> str: ...
    def add_channel(self, ch: Channel, call: EmulatedCall) -> None: ...
    def remove_channel(self, ch: Channel) -> None: ...
    def position(self, context: str, exten: str, priority: int) -> Position | None: ...


@dataclass
class OriginateRequest:
    channel: str
    action_id: str | None = None
    context: str = ""
    exten: str = ""
    priority: str = "1"
    application: str = ""
    data: str = ""
    caller_num: str = ""
    caller_name: str = ""
    caller_id: str = ""
    timeout_ms: int = 30000
    variables: list[tuple[str, str]] = field(default_factory=list)
    channel_id: str = ""
    other_channel_id: str = ""
    account: str = ""
    is_async: bool = False

    @classmethod
    def from_action(cls, msg: Message) -> OriginateRequest:
        cid = msg.get("CallerID", "") or ""
        m = re.match(r'\s*"?([^"<]*?)"?\s*<([^>]*)>', cid)
        name, num = (m[1], m[2]) if m else ("", cid)
        variables = [tuple(v.split("=", 1)) for v in msg.get_all("Variable") if "=" in v]
        return cls(
            channel=msg.get("Channel", "") or "",
            action_id=msg.action_id,
            context=msg.get("Context", "") or "",
            exten=msg.get("Exten", "") or "",
            priority=msg.get("Priority", "1") or "1",
            application=msg.get("Application", "") or "",
            data=msg.get("Data", "") or "",
            caller_num=num,
            caller_name=name,
            caller_id=cid,
            timeout_ms=int(msg.get("Timeout", "30000") or 30000),
            variables=[(k, v) for k, v in variables],
            channel_id=msg.get("ChannelId", "") or "",
            other_channel_id=msg.get("OtherChannelId", "") or "",
            account=msg.get("Account", "") or "",
            is_async=(msg.get("Async", "") or "").lower() in ("true", "yes", "1", "on"),
        )


class EmulatedCall:
    def __init__(
        self, host: CallHost, req: OriginateRequest, script: CallScript, seq: int,
        callee_program: Program, target_program: Program | None,
    ) -> None:
        self.host, self.req, self.script = host, req, script
        self.callee_program, self.target_program = callee_program, target_program
        self.result: asyncio.Future[tuple[bool, int]] = asyncio.get_running_loop().create_future()
        tech, _, resource = req.channel.partition("/")
        self.tech, self.resource = tech, resource
        self.local = tech.lower() == "local"
        self.device = f"{tech}/{resource}"
        self.callee_exten, _, ctx = resource.partition("@")
        self.callee_context = ctx or "default"
        name = f"{req.channel}-{seq:08x}" if self.local else f"{tech}/{self.callee_exten}-{seq:08x}"
        a_id = req.channel_id or host.new_uniqueid()
        self.a = Channel(f"{name};1" if self.local else name, a_id, a_id, 0,
                         self.callee_context, self.callee_exten, cdr_dst=self.callee_exten,
                         cdr_dcontext=self.callee_context)
        b_id = req.other_channel_id or host.new_uniqueid()
        self.b = Channel(f"{name};2", b_id, a_id, 4, self.callee_context, self.callee_exten,
                         cdr_dst=self.callee_exten, cdr_dcontext=self.callee_context)
        self._hangup_req: tuple[Channel, int] | None = None
        self._hangup_evt = asyncio.Event()
        self._pbx_a = False
        self._a_playing = ""
        self._a_agi = False
        self._b_agi = False
        self.answered_call: AnsweredCall | None = None

    # -- plumbing -------------------------------------------------------------------------
    def emit(self, msg: Message, leg: Channel | None = None) -> None:
        if leg is self.b and not self.local:
            return  # a non-Local channel has no second half to report
        self.host.emit(msg)

    async def sleep(self, seconds: float | None) -> bool:
        """Sleep (scaled); True if a Hangup action arrived meanwhile."""
        timeout = None if seconds is None else seconds * self.host.time_scale
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._hangup_evt.wait()
        return self._hangup_evt.is_set()

    def request_hangup(self, leg: Channel, cause: int) -> None:
        if self._hangup_req is None:
            self._hangup_req = (leg, cause)
            self._hangup_evt.set()

    def resolve(self, ok: bool, reason: int) -> None:
        if self.result.done():
            return
        self.result.set_result((ok, reason))
        if self.req.is_async:
            self.host.emit(self._originate_response(ok, reason))

    def _originate_response(self, ok: bool, reason: int) -> Message:
        headers: list[tuple[str, str]] = [("Event", "OriginateResponse"),
                                          ("Privilege", "call,all")]
        if self.req.action_id is not None:
            headers.append(("ActionID", self.req.action_id))
        headers += [("Response", "Success" if ok else "Failure"),
                    ("Channel", self.a.name if ok else self.req.channel)]
        if self.req.application:
            headers += [("Application", self.req.application), ("Data", self.req.data)]
        else:
            headers += [("Context", self.req.context), ("Exten", self.req.exten)]
        # A failed originate names the ChannelId we asked for, if any (ami-adopt-calls-of-
        # dead-dialer.txt, ami-originate-busy-least-privilege-user.txt), else <unknown>.
        uid = self.a.uniqueid if ok else (self.req.channel_id or "<unknown>")
        headers += [("Reason", str(reason)), ("Uniqueid", uid),
                    ("CallerIDNum", self.req.caller_num or "<unknown>")]
        if self.req.caller_name or not self.req.application:
            headers.append(("CallerIDName", self.req.caller_name or "<unknown>"))
        return Message(tuple(headers))

    def cdr(self, ch: Channel, disposition: str) -> None:
        self.emit(cdr_event(ch, disposition, self.req.caller_id, self.req.caller_num), ch)

    # -- the call -------------------------------------------------------------------------
    async def run(self) -> None:
        if self.tech.lower() not in KNOWN_TECHS:
            self.resolve(False, 0)
            return
        try:
            self.host.add_channel(self.a, self)
            if self.local:
                self.host.add_channel(self.b, self)
            await self._run()
        finally:
            self.host.remove_channel(self.a)
            self.host.remove_channel(self.b)
            self.resolve(False, 0)

    def _setup(self, *, no_such_exten: bool) -> None:
        a, b, req = self.a, self.b, self.req
        self.emit(chan_event("Newchannel", a), a)
        if no_such_exten:
            self.cdr(b, "FAILED")
        self.emit(chan_event("Newchannel", b), b)
        a.cdr_app, a.cdr_data = "AppDial2", "(Outgoing Line)"
        self.emit(newexten(a, "AppDial2", "(Outgoing Line)"), a)
        for k, v in reversed(req.variables):
            self.emit(varset(a, k, v), a)
        if req.account:
            a.account = req.account
            self.emit(chan_event("NewAccountCode", a, [("OldAccountCode", "")]), a)
        # Without a CallerID header Asterisk sets none: no NewCallerid/NewConnectedLine
        # (ami-originate-busy-least-privilege-user.txt).
        cid = bool(req.caller_num or req.caller_name)
        a.caller_num, a.caller_name = req.caller_num, req.caller_name
        if cid:
            self.emit(chan_event("NewCallerid", a, [("CID-CallingPres", _PRES)]), a)
        a.connected_num, a.connected_name = req.caller_num, req.caller_name
        if cid:
            self.emit(chan_event("NewConnectedLine", a), a)
        for k, v in req.variables:
            self.emit(varset(b, k, v), b)
        b.caller_num, b.caller_name = req.caller_num, req.caller_name
        b.connected_num, b.connected_name = req.caller_num, req.caller_name
        b.account = req.account
        if cid:
            self.emit(chan_event("NewCallerid", b, [("CID-CallingPres", _PRES)]), b)
        if req.account:
            self.emit(chan_event("NewAccountCode", b, [("OldAccountCode", "")]), b)
        if cid:
            self.emit(chan_event("NewConnectedLine", b), b)

    async def _run(self) -> None:
        outcome = self.script.outcome
        self._setup(no_such_exten=outcome is Outcome.NO_SUCH_EXTENSION)
        a, b = self.a, self.b
        if outcome is Outcome.NO_SUCH_EXTENSION:
            self.emit(hangup_event(b, 0), b)
            self.emit(device_state(self.device, "INVALID"))
            self.emit(hangup_event(a, 0), a)
            self.cdr(a, "FAILED")
            self.resolve(False, 0)
            self.emit(device_state(self.device, "INVALID"))
            return
        if self.local:
            self.emit(local_bridge(a, b))
        self.emit(dial_event("DialBegin", a, [("DialString", self.resource)]))
        await self.sleep(self.script.ring_ms / 1000)
        await play_outcome(self, outcome)


_PRES = "0 (Presentation Allowed, Not Screened)"
