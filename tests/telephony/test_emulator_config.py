"""The emulator plays an Asterisk that loaded a given `*.conf`: its dialplan decides which
Originates and Local channels exist, its manager users' classes decide which actions run and
which events arrive (answers as Asterisk 22.10.1 gives them; see the traces and main/manager.c).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.telephony.ami_codec import AmiParser, Message, encode_action
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.asterisk_config import AsteriskConfig
from ivr.telephony.emulator.conf_file import ConfError
from ivr.telephony.emulator.dialplan import Dialplan, pattern_matches
from tests.conformance.transcript import load as load_transcript

EXTENSIONS = """\
[globals](+)
IVR_HOST=192.0.2.10 ; edited by the admin
IVR_AGI_PORT=4573

[ivr-out]
exten => _X.,1,Dial(PJSIP/${EXTEN}@trunk,45)
 same => n,Hangup()

[ivr-notify]
exten => s,1,Answer()
 same => n(amd),AMD()
 same => n,AGI(agi://${IVR_HOST}:${IVR_AGI_PORT}/notify,${AMDSTATUS})
 same => n,Hangup()

[other]
include => ivr-out
exten => 100,1,NoOp(a\\;b) ;-- a block
comment --; same => n,Wait(1)
"""
MANAGER = """\
[general]
enabled = yes

[full]
secret = full-secret
read = all
write = all

[dialer]
secret = dialer-secret
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call
write = originate,call

[outsider]
secret = x
deny = 0.0.0.0/0.0.0.0
permit = 10.0.0.0/255.0.0.0
read = all
write = all
"""


def write_conf(tmp_path: Path) -> Path:
    (tmp_path / "extensions_test.conf").write_text(EXTENSIONS)
    (tmp_path / "manager_test.conf").write_text(MANAGER)
    return tmp_path


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[AmiEmulator]:
    config = AsteriskConfig.load(write_conf(tmp_path))
    async with AmiEmulator(config=config, login_fail_delay=0.01, time_scale=0.01) as emu:
        yield emu


async def exchange(port: int, *actions: bytes, settle: float = 0.3) -> list[Message]:
    """Send the actions, read what comes back until `settle` s of quiet, then hang up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"".join(actions))
    parser, out = AmiParser(), []
    try:
        while True:
            data = await asyncio.wait_for(reader.read(65536), settle)
            if not data:
                break
            out.extend(m for m in parser.feed(data) if isinstance(m, Message))
    except TimeoutError:
        pass
    writer.close()
    await writer.wait_closed()
    return out


def login(user: str, secret: str) -> bytes:
    return encode_action("Login", {"Username": user, "Secret": secret}, action_id="login")


def answer(messages: list[Message], action_id: str) -> Message:
    return next(m for m in messages if m.action_id == action_id and m.get("Response"))


def test_dialplan_reads_contexts_patterns_labels_includes_and_globals(tmp_path: Path) -> None:
    plan = Dialplan.load([write_conf(tmp_path) / "extensions_test.conf"])
    assert plan.globals == {"IVR_HOST": "192.0.2.10", "IVR_AGI_PORT": "4573"}
    notify = plan.find("ivr-notify", "s")
    assert notify is not None and notify.labels == {"amd": 2}
    assert [app for app, _ in notify.program()] == ["Answer", "AMD", "AGI", "Hangup"]
    assert plan.exists("ivr-out", "15551234") and not plan.exists("ivr-out", "s")
    assert plan.exists("ivr-out", "15551234", 2) and not plan.exists("ivr-out", "15551234", 3)
    assert plan.exists("other", "4915551234")  # through include =>
    hundred = plan.find("other", "100")
    assert hundred is not None and hundred.program() == [("NoOp", "a;b"), ("Wait", "1")]
    assert not plan.exists("ivr-notify", "notify") and not plan.exists("nosuch", "s")


@pytest.mark.parametrize(("pattern", "exten", "hit"), [
    ("X.", "15551234", True), ("X.", "5", False), ("X.", "s", False),
    ("NXX", "212", True), ("NXX", "112", False), ("Z!", "1", True), ("[1-3]5", "25", True),
    ("[1-3]5", "45", False), ("queue-.", "queue-sales", True), ("1-800-X", "18005", True),
])
def test_patterns_match_like_pbx_c(pattern: str, exten: str, hit: bool) -> None:
    assert pattern_matches(pattern, exten) is hit


def test_a_line_outside_a_section_is_refused_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "extensions_bad.conf"
    bad.write_text("exten => s,1,NoOp()\n")
    with pytest.raises(ConfError, match=r"extensions_bad\.conf:1"):
        Dialplan.load([bad])


async def test_originate_to_an_undefined_extension_gets_asterisks_answer(
    emulator: AmiEmulator,
) -> None:
    trace = load_transcript("ami-originate-no-such-dialplan-target.txt")
    expected = next(c.data for c in trace.chunks if b"Extension does not exist" in c.data)
    got = await exchange(
        emulator.port, login("full", "full-secret"),
        encode_action("Originate", {"Channel": "Local/15551234@ivr-out", "Context": "ivr-notify",
                                    "Exten": "notify", "Priority": "1", "Async": "true"},
                      action_id="originate-17"))
    assert answer(got, "originate-17").encode() == expected
    assert emulator.calls == set() and emulator.processed == 0  # no call was made


async def test_local_channel_to_an_undefined_extension_fails_as_the_trace_shows(
    emulator: AmiEmulator,
) -> None:
    got = await exchange(
        emulator.port, login("full", "full-secret"),
        encode_action("Originate", {"Channel": "Local/15551234@outbound", "Context": "ivr-notify",
                                    "Exten": "s", "Priority": "1", "Async": "true"},
                      action_id="o1"))
    assert answer(got, "o1")["Message"] == "Originate successfully queued"
    response = next(m for m in got if m.name == "OriginateResponse")
    assert (response["Response"], response["Reason"], response["Uniqueid"]) == (
        "Failure", "0", "<unknown>")
    failed = [m["Disposition"] for m in got if m.name == "Cdr"]
    assert failed == ["FAILED", "FAILED"]


async def test_originate_to_a_defined_target_runs_its_dialplan(emulator: AmiEmulator) -> None:
    emulator.script("15551234", "answer", talk_ms=50)
    got = await exchange(
        emulator.port, login("full", "full-secret"),
        encode_action("Originate", {"Channel": "Local/15551234@ivr-out", "Context": "ivr-notify",
                                    "Exten": "s", "Priority": "1", "Async": "true"},
                      action_id="o1"), settle=1.0)
    apps = [(m["Application"], m["AppData"]) for m in got
            if m.name == "Newexten" and m["Channel"].endswith(";1")]
    assert ("AGI", "agi://192.0.2.10:4573/notify,HUMAN") in apps  # globals and AMD() applied
    amd = [(m["Variable"], m["Value"]) for m in got if m.name == "VarSet"
           and m["Variable"].startswith("AMD")]
    assert amd == [("AMDSTATUS", "HUMAN"), ("AMDCAUSE", "HUMAN-800-800")]


@pytest.mark.parametrize(("action", "allowed"), [
    ("Ping", True), ("Originate", True), ("Getvar", True), ("Hangup", True), ("Setvar", True),
    ("CoreShowChannels", False), ("Status", True), ("CoreStatus", False), ("Command", False),
    ("UserEvent", False),
])
async def test_actions_run_only_with_one_of_their_classes(
    emulator: AmiEmulator, action: str, allowed: bool,
) -> None:
    got = await exchange(emulator.port, login("dialer", "dialer-secret"),
                         encode_action(action, {"Variable": "X", "Channel": "nosuch"},
                                       action_id="a1"))
    denied = answer(got, "a1").get("Message") == "Permission denied"
    assert denied is not allowed
    if denied:
        assert answer(got, "a1").encode() == (
            b"Response: Error\r\nActionID: a1\r\nMessage: Permission denied\r\n\r\n")


async def test_events_reach_a_user_only_for_its_read_classes(emulator: AmiEmulator) -> None:
    emulator.script("15551234", "answer", talk_ms=50)
    originate = encode_action(
        "Originate", {"Channel": "Local/15551234@ivr-out", "Context": "ivr-notify", "Exten": "s",
                      "Priority": "1", "Async": "true"}, action_id="o1")
    full, dialer = await asyncio.gather(
        exchange(emulator.port, login("full", "full-secret"), settle=1.0),
        exchange(emulator.port, login("dialer", "dialer-secret"), originate, settle=1.0))
    full_names = {m.name for m in full}
    assert {"FullyBooted", "SuccessfulAuth", "VarSet", "Newexten", "Cdr", "Hangup"} <= full_names
    names = {m.name for m in dialer if m.name}
    assert {"Newchannel", "Hangup", "OriginateResponse"} <= names
    assert not names & {"FullyBooted", "SuccessfulAuth", "VarSet", "Newexten", "Cdr"}


async def test_a_denied_action_is_reported_to_security_readers(emulator: AmiEmulator) -> None:
    watcher, _ = await asyncio.gather(
        exchange(emulator.port, login("full", "full-secret"), settle=0.6),
        exchange(emulator.port, login("dialer", "dialer-secret"),
                 encode_action("CoreShowChannels", action_id="c1")))
    event = next(m for m in watcher if m.name == "RequestNotAllowed")
    assert [k for k, _ in event.headers] == [
        "Event", "Privilege", "EventTV", "Severity", "Service", "EventVersion", "AccountID",
        "SessionID", "LocalAddress", "RemoteAddress", "RequestType", "SessionTV"]
    assert (event["AccountID"], event["RequestType"]) == ("dialer", "Action: CoreShowChannels")


async def test_a_user_whose_acl_refuses_the_address_cannot_log_in(
    emulator: AmiEmulator,
) -> None:
    got = await exchange(emulator.port, login("outsider", "x"))
    assert answer(got, "login")["Message"] == "Authentication failed"


def test_the_open_emulator_keeps_one_all_rights_user() -> None:
    emu = AmiEmulator(username="u", secret="s")
    user = emu.check_login("u", "s", "192.0.2.1")
    assert user is not None and user.may_run("CoreShowChannels") and user.may_read("cdr,all")
