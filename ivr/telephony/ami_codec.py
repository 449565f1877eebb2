"""Socket-free AMI codec: bytes in, messages out; actions in, bytes out.

AMI messages are ``Key: Value\\r\\n`` lines closed by a blank line; the server greets with one
banner line. The parser buffers across any TCP chunking (Asterisk sometimes sends the first line of
a response alone). Headers keep their order and repeats (several ``Variable:``); lookups ignore
the key's case, as Asterisk does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ivr.telephony.errors import AmiEncodeError, AmiProtocolError

BANNER = "Asterisk Call Manager/11.0.0"
_MAX_BUFFER = 1 << 20  # one message larger than this means the peer is not speaking AMI

Header = tuple[str, str]
HeaderInput = Mapping[str, str | Sequence[str]] | Iterable[Header]


@dataclass(frozen=True)
class Banner:
    """The greeting line (``Asterisk Call Manager/11.0.0``)."""

    text: str


@dataclass(frozen=True)
class Message:
    """One AMI message: a response, an event or an action, with its headers in wire order."""

    headers: tuple[Header, ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        folded = key.lower()
        for k, v in self.headers:
            if k.lower() == folded:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        folded = key.lower()
        return [v for k, v in self.headers if k.lower() == folded]

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[Header]:
        return iter(self.headers)

    @property
    def kind(self) -> str:
        """``response``, ``event``, ``action`` or ``other``, from the first header."""
        if not self.headers:
            return "other"
        first = self.headers[0][0].lower()
        return first if first in ("response", "event", "action") else "other"

    @property
    def name(self) -> str:
        """The value of the first header: ``Success``, ``Newchannel``, ``Originate``..."""
        return self.headers[0][1] if self.headers else ""

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def is_event(self, name: str) -> bool:
        return self.kind == "event" and self.name.lower() == name.lower()

    def to_dict(self) -> dict[str, str]:
        """First value per key (original case); for logging and simple lookups."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            out.setdefault(k, v)
        return out

    def encode(self) -> bytes:
        return encode_message(self.headers)


class AmiParser:
    """Incremental parser. ``feed`` bytes, get every complete Banner/Message they finish."""

    def __init__(self, *, expect_banner: bool = True) -> None:
        self._buffer = bytearray()
        self._need_banner = expect_banner
        self._lines: list[Header] = []

    def feed(self, data: bytes) -> list[Banner | Message]:
        self._buffer += data
        out: list[Banner | Message] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            item = self._line(raw[:-1] if raw.endswith(b"\r") else raw)
            if item is not None:
                out.append(item)
        if len(self._buffer) > _MAX_BUFFER:
            raise AmiProtocolError("AMI line longer than 1 MiB")
        return out

    @property
    def pending(self) -> bool:
        """True when a message was started but not finished (useful at EOF)."""
        return bool(self._buffer or self._lines)

    def _line(self, raw: bytes) -> Banner | Message | None:
        text = raw.decode("utf-8", errors="replace")
        if self._need_banner:
            self._need_banner = False
            return Banner(text)
        if text == "":
            if not self._lines:
                return None  # stray blank lines between messages carry nothing
            msg = Message(tuple(self._lines))
            self._lines = []
            return msg
        key, sep, value = text.partition(":")
        if not sep:
            raise AmiProtocolError(f"AMI line without a colon: {text[:80]!r}")
        self._lines.append((key.strip(), value[1:] if value.startswith(" ") else value))
        if len(self._lines) > 10_000:
            raise AmiProtocolError("AMI message with more than 10000 headers")
        return None


def parse_all(data: bytes, *, expect_banner: bool = True) -> list[Banner | Message]:
    """Parse a whole stream; raise if it ends in the middle of a message."""
    parser = AmiParser(expect_banner=expect_banner)
    out = parser.feed(data)
    if parser.pending:
        raise AmiProtocolError("AMI stream ends inside a message")
    return out


def _pairs(headers: HeaderInput) -> list[Header]:
    if isinstance(headers, Mapping):
        pairs: list[Header] = []
        for key, value in headers.items():
            if isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, v) for v in value)
        return pairs
    return list(headers)


def _check(text: str, what: str) -> None:
    if "\r" in text or "\n" in text:
        raise AmiEncodeError(f"AMI {what} contains CR or LF: {text[:40]!r}")


def encode_message(headers: HeaderInput) -> bytes:
    """Encode headers as one AMI message. Refuses CR/LF anywhere (header injection)."""
    out: list[str] = []
    for key, value in _pairs(headers):
        _check(key, "header name")
        _check(value, f"value of {key}")
        if not key or ":" in key:
            raise AmiEncodeError(f"bad AMI header name: {key!r}")
        out.append(f"{key}: {value}\r\n")
    return ("".join(out) + "\r\n").encode("utf-8")


def encode_action(
    action: str, headers: HeaderInput = (), *, action_id: str | None = None
) -> bytes:
    """``Action: <action>``, then ``ActionID`` when given, then the other headers in order."""
    pairs: list[Header] = [("Action", action)]
    if action_id is not None:
        pairs.append(("ActionID", action_id))
    pairs.extend(_pairs(headers))
    return encode_message(pairs)


def encode_banner(text: str = BANNER) -> bytes:
    _check(text, "banner")
    return f"{text}\r\n".encode()
