"""Manager actions of the AMI emulator, answered as Asterisk 22 answers them."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ivr.telephony.ami_codec import Header, Message
from ivr.telephony.emulator.ami_call import OriginateRequest
from ivr.telephony.emulator.ami_channels import Channel, list_headers, varset

if TYPE_CHECKING:
    from ivr.telephony.emulator.ami_session import AmiSession

Handler = Callable[["AmiSession", Message], Awaitable[None]]
VERSION = "Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-22 09:17:54 UTC"


async def ping(s: AmiSession, msg: Message) -> None:
    s.respond(msg, "Success", [("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")])


async def events(s: AmiSession, msg: Message) -> None:
    s.events_on = (msg.get("EventMask", "") or "").lower() != "off"
    s.respond(msg, "Success", [("Events", "On" if s.events_on else "Off")])


async def logoff(s: AmiSession, msg: Message) -> None:
    s.respond(msg, "Goodbye", [("Message", "Thanks for all the fish.")])
    s.close()


async def core_status(s: AmiSession, msg: Message) -> None:
    emu = s.emulator
    day, clock = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(emu.started_at)).split()
    s.respond(msg, "Success", [
        ("CoreStartupDate", day), ("CoreStartupTime", clock),
        ("CoreReloadDate", day), ("CoreReloadTime", clock),
        ("CoreCurrentCalls", str(len(emu.calls))), ("CoreProcessedCalls", str(emu.processed)),
    ])


async def command(s: AmiSession, msg: Message) -> None:
    cmd = msg.get("Command", "") or ""
    if cmd.strip() == "core show version":
        s.respond(msg, "Success", [("Message", "Command output follows"), ("Output", VERSION)])
        return
    words = " ".join(cmd.split()[:2])
    out = f"No such command '{cmd}' (type 'core show help {words}' for other possible commands)"
    s.respond(msg, "Error", [("Message", "Command output follows"), ("Output", out)])


def _channel_var(ch: Channel, name: str) -> str:
    special = {"CALLERID(num)": ch.caller_num, "CALLERID(name)": ch.caller_name,
               "CHANNEL": ch.name, "UNIQUEID": ch.uniqueid}
    return special.get(name, ch.variables.get(name, ""))


async def getvar(s: AmiSession, msg: Message) -> None:
    name = msg.get("Variable", "") or ""
    chan_name = msg.get("Channel")
    if chan_name:
        ch = s.emulator.channel(chan_name)
        if ch is None:
            s.respond(msg, "Error", [("Message", "No such channel")])
            return
        value = _channel_var(ch, name)
    else:
        value = s.emulator.global_vars.get(name, "")
    s.respond(msg, "Success", [("Variable", name), ("Value", value)])


async def setvar(s: AmiSession, msg: Message) -> None:
    name, value = msg.get("Variable", "") or "", msg.get("Value", "") or ""
    chan_name = msg.get("Channel")
    if chan_name:
        ch = s.emulator.channel(chan_name)
        if ch is None:
            s.respond(msg, "Error", [("Message", "No such channel")])
            return
        s.respond(msg, "Success", [("Message", "Variable Set")])
        s.emulator.emit(varset(ch, name, value))
        return
    s.emulator.global_vars[name] = value
    s.respond(msg, "Success", [("Message", "Variable Set")])
    s.emulator.emit(Message((("Event", "VarSet"), ("Privilege", "dialplan,all"),
                             ("Channel", "none"), ("Uniqueid", "none"),
                             ("Variable", name), ("Value", value))))


async def user_event(s: AmiSession, msg: Message) -> None:
    s.respond(msg, "Success", [("Message", "Event Sent")])
    extra = [(k, v) for k, v in msg.headers if k.lower() not in ("action", "actionid", "userevent")]
    headers: list[Header] = [("Event", "UserEvent"), ("Privilege", "user,all"),
                             ("UserEvent", msg.get("UserEvent", "") or "")]
    if msg.action_id is not None:
        headers.append(("ActionID", msg.action_id))
    s.emulator.emit(Message(tuple(headers + extra)))


def _list_event(name: str, msg: Message, body: list[Header], *, first: bool = True) -> Message:
    aid = [("ActionID", msg.action_id)] if msg.action_id is not None else []
    return Message(tuple([("Event", name), *aid, *body] if first else [("Event", name), *body,
                                                                        *aid]))


def _complete(s: AmiSession, name: str, msg: Message, n: int, extra: list[Header]) -> None:
    s.send(_list_event(name, msg, [("EventList", "Complete"), ("ListItems", str(n)), *extra]))


async def core_show_channels(s: AmiSession, msg: Message) -> None:
    s.respond(msg, "Success", [("EventList", "start"), ("Message", "Channels will follow")])
    chans = s.emulator.live_channels()
    for ch in chans:
        s.send(_list_event("CoreShowChannel", msg, ch.snapshot() + list_headers(ch)))
    _complete(s, "CoreShowChannelsComplete", msg, len(chans), [])


def _status_body(ch: Channel) -> list[Header]:
    return [("Privilege", "Call"), *ch.snapshot(), ("Type", ch.name.partition("/")[0]),
            ("DNID", ""), ("EffectiveConnectedLineNum", ch.connected_num),
            ("EffectiveConnectedLineName", ch.connected_name), ("TimeToHangup", "0"),
            ("BridgeID", ""), ("Application", ch.application), ("Data", ch.app_data),
            ("Nativeformats", "(slin)"), ("Readformat", "slin"), ("Readtrans", ""),
            ("Writeformat", "slin"), ("Writetrans", ""), ("Callgroup", "0"),
            ("Pickupgroup", "0"), ("Seconds", str(ch.duration_s))]


async def status(s: AmiSession, msg: Message) -> None:
    name = msg.get("Channel")
    chans: list[Channel] = s.emulator.live_channels()
    if name:
        found = s.emulator.channel(name)
        if found is None:
            s.respond(msg, "Error", [("Message", "No such channel")])
            return
        chans = [found]
    s.respond(msg, "Success", [("EventList", "start"), ("Message", "Channel status will follow")])
    for ch in chans:
        s.send(_list_event("Status", msg, _status_body(ch), first=False))
    _complete(s, "StatusComplete", msg, len(chans), [("Items", str(len(chans)))])


async def hangup(s: AmiSession, msg: Message) -> None:
    name = msg.get("Channel", "") or ""
    cause = int(msg.get("Cause", "16") or 16)
    emu = s.emulator
    if not name:
        s.respond(msg, "Error", [("Message", "No channel specified")])
        return
    if len(name) > 2 and name.startswith("/") and name.endswith("/"):
        pattern = re.compile(name[1:-1])
        hits = [ch for ch in emu.live_channels() if pattern.search(ch.name)]
        s.respond(msg, "Success", [("EventList", "start"),
                                   ("Message", "Channels hung up will follow")])
        for ch in hits:
            s.send(_list_event("ChannelHungup", msg, [("Channel", ch.name)], first=False))
        _complete(s, "ChannelsHungupListComplete", msg, len(hits), [])
        for ch in hits:
            emu.hangup_channel(ch, cause)
        return
    target = emu.channel(name)
    if target is None:
        s.respond(msg, "Error", [("Message", "No such channel")])
        return
    s.respond(msg, "Success", [("Message", "Channel Hungup")])
    emu.hangup_channel(target, cause)


async def originate(s: AmiSession, msg: Message) -> None:
    req = OriginateRequest.from_action(msg)
    if not req.channel:
        s.respond(msg, "Error", [("Message", "Channel not specified")])
        return
    if not req.priority.isdigit():
        s.respond(msg, "Error", [("Message", "Invalid priority")])
        return
    if not req.application and not s.emulator.extension_exists(req.context, req.exten,
                                                               int(req.priority)):
        s.respond(msg, "Error", [("Message", "Extension does not exist.")])
        return
    call = s.emulator.start_call(req)
    if req.is_async:
        s.respond(msg, "Success", [("Message", "Originate successfully queued")])
        return
    ok, _reason = await asyncio.shield(call.result)
    if ok:
        s.respond(msg, "Success", [("Message", "Originate successfully queued")])
    else:
        s.respond(msg, "Error", [("Message", "Originate failed")])


HANDLERS: dict[str, Handler] = {
    "ping": ping, "events": events, "logoff": logoff, "corestatus": core_status,
    "command": command, "getvar": getvar, "setvar": setvar, "userevent": user_event,
    "coreshowchannels": core_show_channels, "status": status, "hangup": hangup,
    "originate": originate,
}
