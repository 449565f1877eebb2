"""(a) Our AGI codec parses every byte Asterisk sent in every agi-*.txt trace, whatever the
chunking, and the parse is right: re-serialising the events gives back the exact stream, and
spot-checked values match."""

from __future__ import annotations

import pytest

from ivr.telephony.agi import (
    DEAD_511,
    HANGUP_LINE,
    INVALID_510,
    AgiEnvironment,
    AgiEvent,
    AgiReader,
    AgiResult,
    HangupNotice,
    format_environment,
    format_result,
    format_usage,
    parse_command_line,
)
from tests.conformance import transcript

AGI_TRACES = transcript.names("agi-")


def ast_stream(tr: transcript.Transcript) -> bytes:
    direction = "AST->CALLER" if "caller-side" in tr.name else "AST->APP"
    return tr.stream(direction)


def app_stream(tr: transcript.Transcript) -> bytes:
    direction = "CALLER->AST" if "caller-side" in tr.name else "APP->AST"
    return tr.stream(direction)


def parse_all(data: bytes, step: int) -> list[AgiEvent]:
    reader = AgiReader()
    events: list[AgiEvent] = []
    for i in range(0, len(data), step):
        events += reader.feed(data[i : i + step])
    assert not reader.pending
    return events


def serialise(event: AgiEvent) -> bytes:
    if isinstance(event, AgiEnvironment):
        return format_environment(list(event.raw.items()))
    if isinstance(event, HangupNotice):
        return HANGUP_LINE
    if event.code == 510:
        return INVALID_510
    if event.code == 511:
        return DEAD_511
    if event.code == 520:
        head, tail = format_usage(event.usage)
        return head + tail
    return format_result(event.result, data=event.data, endpos=event.endpos)


@pytest.mark.parametrize("name", AGI_TRACES)
@pytest.mark.parametrize("step", [1, 7, 1 << 20])
def test_codec_reparses_every_asterisk_stream_exactly(name: str, step: int) -> None:
    data = ast_stream(transcript.load(name))
    events = parse_all(data, step)
    assert isinstance(events[0], AgiEnvironment)
    assert b"".join(serialise(e) for e in events) == data


@pytest.mark.parametrize("name", AGI_TRACES)
def test_every_reply_answers_one_command(name: str) -> None:
    tr = transcript.load(name)
    events = parse_all(ast_stream(tr), 1 << 20)
    replies = [e for e in events if isinstance(e, AgiResult)]
    commands = app_stream(tr).count(b"\n")
    # AGIEXITONHANGUP closes before the app's last command, and in the agi-notify-* traces the
    # app closed right after a command sent past its own HANGUP, before any reply; otherwise
    # one reply per line
    last_unanswered = name.endswith("agiexitonhangup-yes.txt") or "agi-notify-" in name
    assert len(replies) == commands or (last_unanswered and len(replies) == commands - 1)


@pytest.mark.parametrize("name", AGI_TRACES)
def test_asterisk_side_parser_reads_every_app_command(name: str) -> None:
    lines = app_stream(transcript.load(name)).split(b"\n")[:-1]
    for line in lines:
        words = parse_command_line(line)
        assert all(isinstance(w, str) for w in words)


def test_environment_values_of_the_args_trace() -> None:
    env = parse_all(ast_stream(transcript.load("agi-env-args.txt")), 3)[0]
    assert isinstance(env, AgiEnvironment)
    assert env.is_network
    assert env.network_script == "env-args?mode=test&lang=en"
    assert env.script == "env-args"
    assert env.query == {"mode": "test", "lang": "en"}
    assert env.request == "agi://127.0.0.1:4573/env-args?mode=test&lang=en"
    assert env.args == ["first arg", "second|arg", "5551234", ""]
    assert env.accountcode == ""
    assert env.caller_number == "5551234"
    assert env.caller_name == "Alice Example"
    assert env.dialed_number is None and env.dnid == "unknown"
    assert env.redirecting_number is None
    assert env.uniqueid == "1795339551.0"
    assert env.priority_number == 1
    assert not env.is_enhanced


def test_environment_of_the_ivr_entry_context_carries_the_dnis() -> None:
    env = parse_all(ast_stream(transcript.load("agi-ivr-entry-context.txt")), 5)[0]
    assert isinstance(env, AgiEnvironment)
    assert (env.context, env.extension, env.priority, env.args) == (
        "ivr", "18005550100", "2", ["18005550100"]
    )  # fmt: skip


def results_of(name: str) -> list[AgiResult]:
    events = parse_all(ast_stream(transcript.load(name)), 11)
    return [e for e in events if isinstance(e, AgiResult)]


def test_result_values_of_the_stream_and_digit_trace() -> None:
    r = results_of("agi-stream-file-wait-for-digit-say.txt")
    assert (r[1].value, r[1].digit, r[1].endpos) == (49, "1", 13760)
    assert (r[2].value, r[2].digit, r[2].endpos) == (0, None, 44549)
    assert r[4].digit == "#"
    assert (r[5].value, r[5].endpos) == (-1, 0)
    assert r[8].digit == "*"


def test_result_values_of_the_get_data_trace() -> None:
    r = results_of("agi-get-data.txt")
    assert (r[1].result, r[1].timed_out) == ("1234", False)
    assert (r[2].result, r[2].timed_out) == ("", True)
    assert (r[4].result, r[4].timed_out) == ("12", True)
    assert (r[5].result, r[5].data) == ("", None)
    assert (r[6].result, r[6].value) == ("*9", None)
    assert r[7].value == -1


def test_result_values_of_the_record_trace() -> None:
    r = results_of("agi-record-file.txt")
    assert (r[1].value, r[1].data, r[1].endpos) == (2323, "timeout", 11127)
    assert (r[3].digit, r[3].data, r[3].endpos) == ("#", "dtmf", 3767)
    assert (r[6].value, r[6].data, r[6].endpos) == (-1, "writefile", None)
    hup = results_of("agi-hangup-during-record-file.txt")[1]
    assert (hup.value, hup.hangup, hup.endpos) == (-1, True, 0)


def test_result_values_of_the_env_and_commands_trace() -> None:
    r = results_of("agi-env-and-commands.txt")
    by_data = {x.data for x in r if x.data is not None}
    assert {'"Alice Example" <5551234>', "bar baz", "", '"" <5550123>'} <= by_data
    usage = [x for x in r if x.code == 520]
    assert len(usage) == 5
    assert usage[0].usage.startswith("Send the given file, allowing playback")
    assert usage[0].usage.endswith("    <value>FAILED</value>")
    assert usage[1].usage.count("\n") == 1
    assert {x.code for x in r} == {200, 510, 511, 520}
    assert r[-1].value == 1 and r[-2].hangup


def test_hangup_notices_of_the_exit_on_hangup_trace_arrive_in_one_chunk() -> None:
    events = parse_all(ast_stream(transcript.load("agi-hangup-with-agiexitonhangup-yes.txt")), 99)
    assert [type(e) for e in events[-3:]] == [AgiResult, HangupNotice, HangupNotice]
