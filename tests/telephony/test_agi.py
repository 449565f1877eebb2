"""The socket-free AGI codec: encoding (quoting, CR/LF refusal), Asterisk-side parsing,
incremental reading under any chunking, result forms, the environment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.telephony.agi import (
    AgiEnvironment,
    AgiReader,
    AgiResult,
    HangupNotice,
    encode_command,
    format_environment,
    format_result,
    parse_command_line,
    parse_environment,
    parse_result_line,
)
from ivr.telephony.errors import AgiEncodeError, AgiProtocolError
from tests.conformance import transcript

SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), max_size=30
)


def test_plain_arguments_go_unquoted_and_others_are_quoted() -> None:
    assert encode_command("STREAM FILE", "hello-test", "") == b'STREAM FILE hello-test ""\n'
    assert encode_command("SET VARIABLE", "FOO", "bar baz") == b'SET VARIABLE FOO "bar baz"\n'
    assert encode_command("SET VARIABLE", "Q", 'a "q" \\') == b'SET VARIABLE Q "a \\"q\\" \\\\"\n'
    assert encode_command("NOOP") == b"NOOP\n"


@pytest.mark.parametrize("evil", ["1\nHANGUP", "x\r", "\n", "a\x00b"])
def test_arguments_with_cr_or_lf_are_refused_naming_the_argument(evil: str) -> None:
    with pytest.raises(AgiEncodeError, match=r"argument 2 of SET VARIABLE"):
        encode_command("SET VARIABLE", "NAME", evil)


def test_a_command_name_that_is_not_words_is_refused() -> None:
    with pytest.raises(AgiEncodeError):
        encode_command("NOOP\nHANGUP")


@given(st.lists(SAFE_TEXT, max_size=6))
def test_asterisk_parses_back_exactly_what_we_encode(args: list[str]) -> None:
    line = encode_command("SET VARIABLE", *args)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert parse_command_line(line[:-1]) == ["SET", "VARIABLE", *args]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (b"GET   VARIABLE    FOO", ["GET", "VARIABLE", "FOO"]),
        (b"GET VARIABLE FOO\r", ["GET", "VARIABLE", "FOO\r"]),
        (b"NOOP\r", ["NOOP\r"]),
        (b"", []),
        (b"get\tvariable FOO", ["get", "variable", "FOO"]),
        (b'SET VARIABLE Q "a \\"quoted\\" value"', ["SET", "VARIABLE", "Q", 'a "quoted" value']),
        (b'SAY DIGITS 1234 ""', ["SAY", "DIGITS", "1234", ""]),
        ('SET VARIABLE U "José"'.encode(), ["SET", "VARIABLE", "U", "José"]),
    ],
)
def test_asterisk_side_splits_commands_like_asterisk(line: bytes, words: list[str]) -> None:
    assert parse_command_line(line) == words


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=200))
def test_reader_gives_the_same_events_whatever_the_chunking(sizes: list[int]) -> None:
    data = transcript.load("agi-env-and-commands.txt").stream("AST->APP")
    whole = AgiReader().feed(data)
    reader, events, pos = AgiReader(), [], 0
    for size in sizes:
        events += reader.feed(data[pos : pos + size])
        pos += size
    events += reader.feed(data[pos:])
    assert events == whole


def test_reader_without_environment_reads_results_and_hangup() -> None:
    reader = AgiReader(expect_environment=False)
    assert reader.feed(b"200 result=-1 endpos=16160\nHANG") == [
        AgiResult(200, "-1", None, 16160, "-1")
    ]
    assert reader.pending
    assert reader.feed(b"UP\n") == [HangupNotice()]
    assert not reader.pending


@pytest.mark.parametrize(
    ("line", "result", "data", "endpos"),
    [
        ("200 result=0", "0", None, None),
        ("200 result=", "", None, None),
        ("200 result= (timeout)", "", "timeout", None),
        ("200 result=12 (timeout)", "12", "timeout", None),
        ("200 result=1 ()", "1", "", None),
        ('200 result=1 ("Alice" <5551234>)', "1", '"Alice" <5551234>', None),
        ("200 result=1 (a (b) c)", "1", "a (b) c", None),
        ("200 result=0 endpos=-1", "0", None, -1),
        ("200 result=35 (dtmf) endpos=3767", "35", "dtmf", 3767),
        ("200 result=-1 (writefile)", "-1", "writefile", None),
        ("200 result=-1 (hangup) endpos=0", "-1", "hangup", 0),
    ],
)
def test_result_forms(line: str, result: str, data: str | None, endpos: int | None) -> None:
    parsed = parse_result_line(line)
    assert (parsed.code, parsed.result, parsed.data, parsed.endpos) == (200, result, data, endpos)
    assert format_result(result, data=data, endpos=endpos) == (line + "\n").encode()


def test_digit_helpers() -> None:
    assert parse_result_line("200 result=49").digit == "1"
    assert parse_result_line("200 result=35").digit == "#"
    assert parse_result_line("200 result=0").digit is None
    assert parse_result_line("200 result=-1").digit is None
    assert parse_result_line("200 result=*9").value is None
    assert parse_result_line("511 Command Not Permitted").hangup


@pytest.mark.parametrize("line", ["hello", "20 result=1", "200 nothing", "200 result=1 junk"])
def test_garbage_replies_are_protocol_errors(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_result_line(line)


def test_environment_accessors_and_argument_order() -> None:
    lines = ["agi_callerid: unknown", "agi_calleridname: ", "agi_arg_10: ten", "agi_arg_2: two"]
    lines += [f"agi_arg_{i}: a{i}" for i in (1, 3, 4, 5, 6, 7, 8, 9)] + ["agi_custom: x"]
    env = parse_environment(lines)
    assert env.caller_number is None and env.caller_name is None
    assert env.args[:3] == ["a1", "two", "a3"] and env.args[-1] == "ten"
    assert env.raw["custom"] == "x"
    assert not env.is_network and env.query == {}


def test_environment_round_trip() -> None:
    pairs = [("network", "yes"), ("network_script", "ivr?a=1&b="), ("accountcode", "")]
    env = AgiReader().feed(format_environment(pairs))[0]
    assert isinstance(env, AgiEnvironment)
    assert env.query == {"a": "1", "b": ""} and env.script == "ivr"
    assert format_environment(list(env.raw.items())) == format_environment(pairs)


def test_bad_environment_line_is_a_protocol_error() -> None:
    with pytest.raises(AgiProtocolError):
        AgiReader().feed(b"agi_network: yes\nnot an env line\n\n")
