"""Normalising and grouping AMI messages so a trace and an emulator run can be compared.

What differs per run and is normalised (everything else must match exactly):
* Uniqueid-style numbers (``1795340746.87``) -> ``UID<n>`` by first appearance; the ChannelIds
  we set ourselves (``hup-test-a``) are kept as they are.
* the Local channel sequence (``-0000002a``) -> ``-SEQ<n>`` by first appearance.
* clocks and counters: Timestamp, EventTV, SessionTV, SessionID, LocalAddress/RemoteAddress
  ports, Uptime/LastReload, CoreStartup*/CoreReload*/CoreProcessedCalls, Cdr times and
  durations (AnswerTime only as empty/non-empty), Status ``Seconds``, CoreShowChannel
  ``Duration``, AGI ``CommandId``.
What is not compared:
* DeviceStateChange (a side channel of the device-state cache; its count varies per run).
* In traces where a FastAGI script ran: AGIExec*, DTMF*, the PLAYBACKSTATUS VarSet of the
  script's STREAM FILE and the Cdr's LastApplication/LastData (the emulator runs no AGI
  commands itself).
Order: responses are compared as one sequence; events per stream (per channel, per Cdr, per
OriginateResponse, per list action), because Asterisk's threads interleave the streams
differently from run to run (the README's "OriginateResponse may come before or after").
"""

from __future__ import annotations

import re

from ivr.telephony.ami_codec import Banner, Message

_UID = re.compile(r"\b\d{9,10}\.\d+\b")
_SEQ = re.compile(r"(@[\w.-]+|/[\w.-]+)-([0-9a-f]{8})(?=;|$)")
_VOLATILE = {
    "timestamp", "eventtv", "sessiontv", "sessionid", "remoteaddress", "localaddress", "uptime",
    "lastreload", "corestartupdate", "corestartuptime", "corereloaddate", "corereloadtime",
    "coreprocessedcalls", "starttime", "endtime", "duration", "billableseconds", "seconds",
    "commandid",
}
AGI_ONLY = {"agiexecstart", "agiexecend", "dtmfbegin", "dtmfend"}


class Normalizer:
    def __init__(self) -> None:
        self.uids: dict[str, str] = {}
        self.seqs: dict[str, str] = {}

    def value(self, key: str, value: str) -> str:
        k = key.lower()
        if k in _VOLATILE:
            return "<v>"
        if k == "answertime":
            return "<t>" if value else ""
        value = _UID.sub(lambda m: self.uids.setdefault(m[0], f"UID{len(self.uids) + 1}"), value)
        return _SEQ.sub(lambda m: m[1] + "-" + self._seq(m[2]), value)

    def _seq(self, raw: str) -> str:
        return self.seqs.setdefault(raw, f"SEQ{len(self.seqs) + 1}")

    def message(self, msg: Message) -> tuple[tuple[str, str], ...]:
        return tuple((k, self.value(k, v)) for k, v in msg.headers)


def _stream_key(msg: Message) -> tuple[str, str]:
    name = msg.name
    if name == "Cdr":
        return ("Cdr", msg.get("Channel") or "")
    if name == "OriginateResponse":
        return ("OriginateResponse", msg.get("ActionID") or "")
    if msg.get("Privilege") is None or name in ("Status",):
        return ("list", msg.get("ActionID") or "")
    for key in ("Channel", "DestChannel", "LocalOneChannel"):
        if msg.get(key):
            return ("chan", msg.get(key) or "")
    return ("global", "")


def group(
    items: list[Banner | Message], *, agi_trace: bool, truncate_at_agi: bool
) -> tuple[list[object], dict[tuple[str, str], list[object]]]:
    """Normalise, filter and split into (responses in order, events per stream)."""
    norm = Normalizer()
    responses: list[object] = []
    streams: dict[tuple[str, str], list[object]] = {}
    stopped: set[str] = set()
    for item in items:
        if isinstance(item, Banner):
            responses.append(("banner", item.text))
            continue
        if item.kind != "event":
            responses.append(norm.message(item))
            continue
        name = item.name.lower()
        if name == "devicestatechange":
            continue
        if agi_trace and (name in AGI_ONLY or (name == "varset"
                                               and item.get("Variable") == "PLAYBACKSTATUS")):
            continue
        if agi_trace and name == "cdr":
            # A FastAGI script's EXEC shows up as the Cdr's last application.
            item = Message(tuple((k, "<agi>") if k in ("LastApplication", "LastData") else (k, v)
                                 for k, v in item.headers))
        channel = item.get("Channel") or item.get("DestChannel") or ""
        if truncate_at_agi and channel in stopped and name != "originateresponse":
            continue
        key = _stream_key(item)
        normalised = norm.message(item)
        streams.setdefault((key[0], norm.value("Channel", key[1])), []).append(normalised)
        if truncate_at_agi and item.name == "Newexten" and item.get("Application") == "AGI":
            stopped.add(channel)
    return responses, streams


def relevant_count(items: list[Banner | Message], **kw: bool) -> int:
    responses, streams = group(items, **kw)
    return len(responses) + sum(len(v) for v in streams.values())
