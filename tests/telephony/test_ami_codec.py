from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.telephony.ami_codec import (
    AmiParser,
    Banner,
    Message,
    encode_action,
    encode_message,
    parse_all,
)
from ivr.telephony.errors import AmiEncodeError, AmiProtocolError

STREAM = (
    b"Asterisk Call Manager/11.0.0\r\n"
    b"Response: Success\r\nActionID: a-1\r\nMessage: Authentication accepted\r\n\r\n"
    b"Event: VarSet\r\nChannel: none\r\nVariable: X\r\nValue: \r\n\r\n"
)


def test_parser_gives_banner_response_and_event_in_order() -> None:
    items = parse_all(STREAM)
    assert items[0] == Banner("Asterisk Call Manager/11.0.0")
    resp, event = items[1], items[2]
    assert isinstance(resp, Message) and isinstance(event, Message)
    assert (resp.kind, resp.name, resp.action_id) == ("response", "Success", "a-1")
    assert event.is_event("varset") and event["value"] == ""


def test_first_line_of_a_response_arriving_alone_is_buffered() -> None:
    parser = AmiParser()
    banner = parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    assert banner == [Banner("Asterisk Call Manager/11.0.0")]
    assert parser.feed(b"Response: Success\r\n") == []
    assert parser.pending
    out = parser.feed(b"ActionID: p\r\nPing: Pong\r\n\r\n")
    assert isinstance(out[0], Message) and out[0]["Ping"] == "Pong"
    assert not parser.pending


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=10))
def test_any_chunking_gives_the_same_messages(cuts: list[int]) -> None:
    parser = AmiParser()
    bounds = [0, *sorted(cuts), len(STREAM)]
    got = [m for a, b in itertools.pairwise(bounds) for m in parser.feed(STREAM[a:b])]
    assert got == parse_all(STREAM)


def test_keys_are_case_insensitive_and_repeats_are_kept() -> None:
    msg = parse_all(b"Action: Originate\r\nvariable: A=1\r\nVariable: B=2\r\n\r\n",
                    expect_banner=False)[0]
    assert isinstance(msg, Message)
    assert msg.get("VARIABLE") == "A=1"
    assert msg.get_all("Variable") == ["A=1", "B=2"]
    assert "action" in msg and "Missing" not in msg
    with pytest.raises(KeyError):
        msg["Missing"]


def test_encode_action_puts_action_id_second_and_keeps_repeats() -> None:
    data = encode_action("Originate", {"Channel": "Local/1@x", "Variable": ["A=1", "B=2"]},
                         action_id="o-1")
    assert data == (b"Action: Originate\r\nActionID: o-1\r\nChannel: Local/1@x\r\n"
                    b"Variable: A=1\r\nVariable: B=2\r\n\r\n")


@pytest.mark.parametrize("value", ["x\r\nAction: Hangup", "x\nEvil: 1", "x\r"])
def test_encoder_refuses_header_injection(value: str) -> None:
    with pytest.raises(AmiEncodeError):
        encode_action("Setvar", {"Value": value})


def test_encoder_refuses_bad_header_names() -> None:
    with pytest.raises(AmiEncodeError):
        encode_message([("Bad: name", "v")])


def test_line_without_colon_is_a_protocol_error() -> None:
    with pytest.raises(AmiProtocolError):
        AmiParser(expect_banner=False).feed(b"garbage\r\n")


def test_stream_ending_inside_a_message_is_reported() -> None:
    with pytest.raises(AmiProtocolError):
        parse_all(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n")
