"""Channels as the AMI emulator shows them: snapshot headers and the events built from them.

Header names and order copy Asterisk 22's manager output (see tests/conformance/traces/).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ivr.telephony.ami_codec import Header, Message

STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}
CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    34: "Circuit/channel congestion",
}
UNKNOWN = "<unknown>"


@dataclass
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    state: int
    context: str
    exten: str
    priority: int = 1
    caller_num: str = UNKNOWN
    caller_name: str = UNKNOWN
    connected_num: str = UNKNOWN
    connected_name: str = UNKNOWN
    account: str = ""
    application: str = ""
    app_data: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    answered: float | None = None
    hung_up: bool = False
    # The Cdr's last application (the dialplan app; not the originate's AppDial2 line).
    cdr_app: str = ""
    cdr_data: str = ""
    cdr_dst: str = ""
    cdr_dcontext: str = ""

    def snapshot(self, prefix: str = "") -> list[Header]:
        pairs = [
            ("Channel", self.name),
            ("ChannelState", str(self.state)),
            ("ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
            ("CallerIDNum", self.caller_num),
            ("CallerIDName", self.caller_name),
            ("ConnectedLineNum", self.connected_num),
            ("ConnectedLineName", self.connected_name),
            ("Language", "en"),
            ("AccountCode", self.account),
            ("Context", self.context),
            ("Exten", self.exten),
            ("Priority", str(self.priority)),
            ("Uniqueid", self.uniqueid),
            ("Linkedid", self.linkedid),
        ]
        return [(prefix + k, v) for k, v in pairs]

    @property
    def duration_s(self) -> int:
        return int(time.time() - self.created)


def chan_event(
    name: str, ch: Channel, extra: list[Header] | None = None, *, privilege: str = "call,all"
) -> Message:
    return Message((("Event", name), ("Privilege", privilege), *ch.snapshot(), *(extra or [])))


def newexten(ch: Channel, app: str, data: str) -> Message:
    ch.application, ch.app_data = app, data
    return chan_event(
        "Newexten",
        ch,
        [("Extension", ch.exten), ("Application", app), ("AppData", data)],
        privilege="dialplan,all",
    )


def varset(ch: Channel, variable: str, value: str) -> Message:
    ch.variables[variable] = value
    return chan_event(
        "VarSet", ch, [("Variable", variable), ("Value", value)], privilege="dialplan,all"
    )


def hangup_event(ch: Channel, cause: int) -> Message:
    ch.hung_up = True
    return chan_event(
        "Hangup", ch, [("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))]
    )


def dial_event(name: str, dest: Channel, extra: list[Header]) -> Message:
    return Message((("Event", name), ("Privilege", "call,all"), *dest.snapshot("Dest"), *extra))


def local_bridge(one: Channel, two: Channel) -> Message:
    return Message(
        (
            ("Event", "LocalBridge"),
            ("Privilege", "call,all"),
            *one.snapshot("LocalOne"),
            *two.snapshot("LocalTwo"),
            ("Context", one.context),
            ("Exten", one.exten),
            ("LocalOptimization", "Yes"),
        )
    )


def device_state(device: str, state: str) -> Message:
    return Message(
        (("Event", "DeviceStateChange"), ("Privilege", "call,all"), ("Device", device),
         ("State", state))
    )


def _stamp(t: float | None) -> str:
    return "" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def cdr_event(ch: Channel, disposition: str, caller_id: str, source: str) -> Message:
    end = time.time()
    billable = 0 if ch.answered is None else int(end - ch.answered)
    return Message(
        (
            ("Event", "Cdr"),
            ("Privilege", "cdr,all"),
            ("AccountCode", ch.account),
            ("Source", source),
            ("Destination", ch.cdr_dst),
            ("DestinationContext", ch.cdr_dcontext),
            ("CallerID", caller_id),
            ("Channel", ch.name),
            ("DestinationChannel", ""),
            ("LastApplication", ch.cdr_app),
            ("LastData", ch.cdr_data),
            ("StartTime", _stamp(ch.created)),
            ("AnswerTime", _stamp(ch.answered)),
            ("EndTime", _stamp(end)),
            ("Duration", str(int(end - ch.created))),
            ("BillableSeconds", str(billable)),
            ("Disposition", disposition),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", ch.uniqueid),
            ("UserField", ""),
        )
    )


def list_headers(ch: Channel) -> list[Header]:
    """CoreShowChannel's body after the snapshot."""
    secs = ch.duration_s
    return [
        ("Application", ch.application),
        ("ApplicationData", ch.app_data),
        ("Duration", f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"),
        ("BridgeId", ""),
    ]
