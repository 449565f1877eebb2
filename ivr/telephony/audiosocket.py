"""AudioSocket wire codec: bytes <-> messages, socket-free (shared by server, emulator, tests).

Framing is ``kind(1) length(2, big-endian) payload``. What Asterisk 22 really does (see
tests/conformance/traces/README.md): its first message is 0x01 with 16 *raw* UUID bytes, audio is
0x10..0x18 (slin at 8..192 kHz, 20 ms a frame), DTMF is 0x03 with one ASCII byte sent at digit end,
and it never sends 0x00 or 0xff: a caller hangup is a plain close. From the server Asterisk accepts
only audio and 0x00; anything else makes it reset the connection, so ``encode_from_server`` refuses.

The channel driver's ``c(ulaw)`` keeps kind 0x10 but carries 160-byte mu-law payloads, so the kind
alone cannot tell the codec: a session declares its ``AudioFormat`` (``ULAW`` for that case).
"""

from __future__ import annotations

import struct
import uuid as uuidlib
from array import array
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Literal

from ivr.telephony.errors import AudioSocketError

HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF
FRAME_MS = 20


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    SLIN8 = 0x10
    SLIN12 = 0x11
    SLIN16 = 0x12
    SLIN24 = 0x13
    SLIN32 = 0x14
    SLIN44 = 0x15
    SLIN48 = 0x16
    SLIN96 = 0x17
    SLIN192 = 0x18
    ERROR = 0xFF


# Plain ints for the per-frame paths: comparing with an IntEnum member costs ~0.7 us on
# Python 3.11 (a property lookup), which at 50 000 frames a second is a tenth of a core.
HANGUP, UUID, DTMF, ERROR = int(Kind.HANGUP), int(Kind.UUID), int(Kind.DTMF), int(Kind.ERROR)

AUDIO_RATES: dict[int, int] = {
    Kind.SLIN8: 8000, Kind.SLIN12: 12000, Kind.SLIN16: 16000, Kind.SLIN24: 24000,
    Kind.SLIN32: 32000, Kind.SLIN44: 44100, Kind.SLIN48: 48000, Kind.SLIN96: 96000,
    Kind.SLIN192: 192000,
}
SERVER_KINDS = frozenset({Kind.HANGUP, *AUDIO_RATES})


@dataclass(frozen=True)
class Message:
    """One AudioSocket message; ``kind`` is an int so unknown kinds survive parsing."""

    kind: int
    payload: bytes = b""

    @property
    def is_audio(self) -> bool:
        return self.kind in AUDIO_RATES

    @property
    def uuid(self) -> uuidlib.UUID:
        if self.kind != Kind.UUID or len(self.payload) != 16:
            raise AudioSocketError(f"not a 16-byte UUID message: kind={self.kind:#04x}")
        return uuidlib.UUID(bytes=self.payload)

    @property
    def digit(self) -> str:
        if self.kind != Kind.DTMF or len(self.payload) != 1:
            raise AudioSocketError(f"not a one-byte DTMF message: kind={self.kind:#04x}")
        return self.payload.decode("ascii")


@dataclass(frozen=True)
class AudioFormat:
    """What a session's audio payloads are: the kind byte, the rate and the sample encoding."""

    name: str
    kind: int
    rate: int
    encoding: Literal["slin", "ulaw"] = "slin"

    @property
    def frame_bytes(self) -> int:
        """Bytes of one full 20 ms frame on the wire."""
        samples = self.rate * FRAME_MS // 1000
        return samples if self.encoding == "ulaw" else samples * 2


SLIN8 = AudioFormat("slin", Kind.SLIN8, 8000)
SLIN16 = AudioFormat("slin16", Kind.SLIN16, 16000)
ULAW = AudioFormat("ulaw", Kind.SLIN8, 8000, "ulaw")
FORMATS: dict[str, AudioFormat] = {
    "slin": SLIN8,
    "slin8": SLIN8,
    "ulaw": ULAW,
    **{f"slin{rate // 1000}": AudioFormat(f"slin{rate // 1000}", kind, rate)
       for kind, rate in AUDIO_RATES.items() if rate not in (8000, 16000)},
    "slin16": SLIN16,
}


def format_for_kind(kind: int) -> AudioFormat:
    """The slin format Asterisk means by an audio kind (ulaw cannot be told from the kind)."""
    for fmt in FORMATS.values():
        if fmt.kind == kind and fmt.encoding == "slin":
            return fmt
    raise AudioSocketError(f"not an audio kind: {kind:#04x}")


# --- encoding -------------------------------------------------------------------------------

def encode_message(kind: int, payload: bytes = b"") -> bytes:
    """Frame any kind, unchecked: the emulator uses it to send what Asterisk would refuse."""
    if not 0 <= kind <= 0xFF:
        raise AudioSocketError(f"kind out of range: {kind}")
    if len(payload) > MAX_PAYLOAD:
        raise AudioSocketError(f"payload too long: {len(payload)} bytes")
    return HEADER.pack(kind, len(payload)) + payload


def encode(message: Message) -> bytes:
    """Frame a message after checking its payload suits its kind."""
    if message.kind == UUID:
        message.uuid  # noqa: B018 - validates the 16 raw bytes
    elif message.kind == DTMF:
        message.digit  # noqa: B018 - validates the one ASCII byte
    elif message.kind == HANGUP and message.payload:
        raise AudioSocketError("a HANGUP message has no payload")
    return encode_message(message.kind, message.payload)


def encode_from_server(message: Message) -> bytes:
    """Frame a message the server may send: audio 0x10..0x18 or 0x00 (Asterisk resets on others)."""
    if message.kind not in SERVER_KINDS:
        raise AudioSocketError(
            f"the server may send only audio or hangup, not kind {message.kind:#04x}")
    return encode(message)


def audio(payload: bytes, kind: int = Kind.SLIN8) -> Message:
    if kind not in AUDIO_RATES:
        raise AudioSocketError(f"not an audio kind: {kind:#04x}")
    return Message(kind, payload)


def hangup() -> Message:
    return Message(Kind.HANGUP)


def uuid_message(value: uuidlib.UUID) -> Message:
    return Message(Kind.UUID, value.bytes)


def dtmf(digit: str) -> Message:
    if len(digit) != 1 or digit not in "0123456789*#ABCDabcd":
        raise AudioSocketError(f"not a DTMF digit: {digit!r}")
    return Message(Kind.DTMF, digit.encode("ascii"))


# --- parsing --------------------------------------------------------------------------------

class Parser:
    """Incremental parser: ``feed`` any chunks, get whole messages back in order."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held back because they do not form a whole message yet."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        self._buf += data
        out: list[Message] = []
        while len(self._buf) >= HEADER.size:
            kind, length = HEADER.unpack_from(self._buf)
            end = HEADER.size + length
            if len(self._buf) < end:
                break
            out.append(Message(kind, bytes(self._buf[HEADER.size:end])))
            del self._buf[:end]
        return out

    def close(self) -> None:
        """The peer closed: a partial message left over is a protocol error."""
        if self._buf:
            raise AudioSocketError(f"connection closed inside a message ({len(self._buf)} bytes)")


# --- sample conversion (pure Python; audioop is deprecated) ---------------------------------

_BIAS = 0x84
_CLIP = 32635


def _ulaw_decode_one(byte: int) -> int:
    u = ~byte & 0xFF
    magnitude = ((((u & 0x0F) << 3) + _BIAS) << ((u >> 4) & 0x07)) - _BIAS
    return -magnitude if u & 0x80 else magnitude


def _ulaw_encode_one(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sign else sample, _CLIP) + _BIAS
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


_ULAW_TO_PCM = [struct.pack("<h", _ulaw_decode_one(b)) for b in range(256)]


@cache
def _pcm_to_ulaw_table() -> bytes:
    # 64 K entries: built on first use so importing the codec stays cheap
    return bytes(_ulaw_encode_one(s - 0x10000 if s >= 0x8000 else s) for s in range(0x10000))


def _samples(pcm: bytes) -> array[int]:
    if len(pcm) % 2:
        raise AudioSocketError(f"s16le audio has an odd length: {len(pcm)}")
    return array("h", pcm)  # little-endian hosts only, like Asterisk's slin on x86/arm


def ulaw_to_pcm(data: bytes) -> bytes:
    """G.711 mu-law to signed 16-bit little-endian."""
    return b"".join(_ULAW_TO_PCM[b] for b in data)


def pcm_to_ulaw(pcm: bytes) -> bytes:
    """Signed 16-bit little-endian to G.711 mu-law."""
    table = _pcm_to_ulaw_table()
    return bytes(table[s & 0xFFFF] for s in _samples(pcm))


def resample(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Linear-interpolation resampling of s16le mono; telephone-grade, not hi-fi."""
    if src_rate == dst_rate or not pcm:
        return pcm
    src = _samples(pcm)
    count = max(1, len(src) * dst_rate // src_rate)
    step = src_rate / dst_rate
    last = len(src) - 1
    out = array("h", bytes(count * 2))
    for i in range(count):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = src[last]
            continue
        frac = pos - j
        out[i] = round(src[j] + (src[j + 1] - src[j]) * frac)
    return out.tobytes()


def to_pcm8k(payload: bytes, fmt: AudioFormat) -> bytes:
    """A wire payload of ``fmt`` as s16le at 8 kHz (what the rest of the product uses)."""
    pcm = ulaw_to_pcm(payload) if fmt.encoding == "ulaw" else payload
    return resample(pcm, fmt.rate, 8000)


def from_pcm8k(pcm: bytes, fmt: AudioFormat) -> bytes:
    """s16le at 8 kHz as a wire payload of ``fmt``."""
    pcm = resample(pcm, 8000, fmt.rate)
    return pcm_to_ulaw(pcm) if fmt.encoding == "ulaw" else pcm
