"""The socket-free AudioSocket codec: framing, parsing under any chunking, server-side guard,
mu-law and resampling."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import FORMATS, SLIN16, ULAW, Kind, Message
from ivr.telephony.errors import AudioSocketError

CALL = uuid.UUID("5b04311d-7a02-4439-8e21-baad5f1b53f0")


def test_uuid_message_carries_16_raw_bytes_not_text() -> None:
    wire = codec.encode(codec.uuid_message(CALL))
    assert wire == b"\x01\x00\x10" + CALL.bytes
    assert codec.Parser().feed(wire)[0].uuid == CALL


def test_length_is_big_endian() -> None:
    assert codec.encode(codec.audio(bytes(320)))[:3] == b"\x10\x01\x40"
    assert codec.encode(codec.audio(bytes(640), Kind.SLIN16))[:3] == b"\x12\x02\x80"


def test_dtmf_is_one_ascii_byte() -> None:
    assert codec.encode(codec.dtmf("1")) == b"\x03\x00\x011"
    assert codec.Parser().feed(b"\x03\x00\x01#")[0].digit == "#"
    with pytest.raises(AudioSocketError):
        codec.dtmf("12")


def test_hangup_is_an_empty_kind_zero() -> None:
    assert codec.encode(codec.hangup()) == b"\x00\x00\x00"
    with pytest.raises(AudioSocketError):
        codec.encode(Message(Kind.HANGUP, b"x"))


messages = st.builds(
    Message,
    st.sampled_from([0x00, 0x03, 0x10, 0x12, 0x18, 0xFF, 0x42]),
    st.binary(max_size=700),
)


@given(st.lists(messages, max_size=8), st.lists(st.integers(1, 50), min_size=1))
def test_parser_returns_the_same_messages_whatever_the_chunking(
    sent: list[Message], cuts: list[int]
) -> None:
    wire = b"".join(codec.encode_message(m.kind, m.payload) for m in sent)
    parser, got, pos, i = codec.Parser(), [], 0, 0
    while pos < len(wire):
        step = cuts[i % len(cuts)]
        got += parser.feed(wire[pos : pos + step])
        pos, i = pos + step, i + 1
    parser.close()
    assert got == sent
    assert parser.pending == 0


def test_closing_inside_a_message_is_an_error() -> None:
    parser = codec.Parser()
    assert parser.feed(b"\x10\x01\x40" + bytes(100)) == []
    assert parser.pending == 103
    with pytest.raises(AudioSocketError):
        parser.close()


def test_malformed_uuid_and_dtmf_payloads_are_errors() -> None:
    with pytest.raises(AudioSocketError):
        _ = Message(Kind.UUID, b"short").uuid
    with pytest.raises(AudioSocketError):
        _ = Message(Kind.DTMF, b"12").digit
    with pytest.raises(AudioSocketError):
        codec.encode(Message(Kind.UUID, bytes(15)))


def test_payload_over_65535_bytes_is_refused() -> None:
    with pytest.raises(AudioSocketError):
        codec.encode_message(0x10, bytes(0x10000))


@pytest.mark.parametrize("kind", [0x00, *range(0x10, 0x19)])
def test_server_may_send_audio_and_hangup(kind: int) -> None:
    payload = b"" if kind == 0 else bytes(320)
    assert codec.encode_from_server(Message(kind, payload))[0] == kind


@pytest.mark.parametrize("kind", [0x01, 0x03, 0x02, 0x19, 0xFF])
def test_server_may_not_send_anything_else(kind: int) -> None:
    payload = {0x01: CALL.bytes, 0x03: b"1"}.get(kind, b"")
    with pytest.raises(AudioSocketError):
        codec.encode_from_server(Message(kind, payload))


def test_formats_have_the_frame_sizes_asterisk_uses() -> None:
    assert FORMATS["slin"].frame_bytes == 320
    assert (SLIN16.kind, SLIN16.frame_bytes) == (0x12, 640)
    assert (ULAW.kind, ULAW.frame_bytes) == (0x10, 160)  # the c(ulaw) quirk: kind says slin
    assert codec.format_for_kind(0x12) == SLIN16
    assert FORMATS["slin48"].frame_bytes == 1920


def test_ulaw_decodes_known_codes() -> None:
    pcm = codec.ulaw_to_pcm(bytes([0xFF, 0x7F, 0x00, 0x80]))
    assert struct.unpack("<4h", pcm) == (0, 0, -32124, 32124)


def test_ulaw_encode_inverts_decode_for_every_code_but_negative_zero() -> None:
    codes = bytes(range(256))
    again = codec.pcm_to_ulaw(codec.ulaw_to_pcm(codes))
    assert [c for c in range(256) if again[c] != c] == [0x7F]
    assert again[0x7F] == 0xFF


@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=200))
def test_ulaw_round_trip_error_is_within_one_quantisation_step(samples: list[int]) -> None:
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    back = struct.unpack(f"<{len(samples)}h", codec.ulaw_to_pcm(codec.pcm_to_ulaw(pcm)))
    for original, decoded in zip(samples, back, strict=True):
        assert abs(original - decoded) <= max(8, abs(original) // 16)


def test_resample_keeps_duration_and_short_frames() -> None:
    assert len(codec.resample(bytes(640), 16000, 8000)) == 320
    assert len(codec.resample(bytes(174), 8000, 16000)) == 348
    ramp = struct.pack("<4h", 0, 100, 200, 300)
    assert struct.unpack("<8h", codec.resample(ramp, 8000, 16000))[:7] == (
        0,
        50,
        100,
        150,
        200,
        250,
        300,
    )


def test_to_and_from_pcm8k_follow_the_session_format() -> None:
    pcm = struct.pack("<160h", *range(-800, 800, 10))
    assert len(codec.from_pcm8k(pcm, ULAW)) == 160
    assert len(codec.from_pcm8k(pcm, SLIN16)) == 640
    assert codec.to_pcm8k(codec.from_pcm8k(pcm, FORMATS["slin"]), FORMATS["slin"]) == pcm
    assert len(codec.to_pcm8k(codec.from_pcm8k(pcm, ULAW), ULAW)) == 320
