"""Socket-free AGI codec (h11 style): bytes in, events out, and commands/replies back to bytes.

Both sides live here: the application side (environment, result parsing, command encoding) used
by the FastAGI server and AGI scripts, and the Asterisk side (command-line splitting, environment
and result formatting) used by the emulator. Everything follows the recorded Asterisk 22 traces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ivr.telephony.errors import AgiEncodeError, AgiProtocolError

HANGUP_LINE = b"HANGUP\n"
INVALID_510 = b"510 Invalid or unknown command\n"
DEAD_511 = b"511 Command Not Permitted on a dead channel or intercept routine\n"
USAGE_520_HEAD = b"520-Invalid command syntax.  Proper usage follows:\n"
USAGE_520_TAIL = b"520 End of proper usage.\n"

_UNKNOWN = {"", "unknown"}
_COMMAND_NAME = re.compile(r"^[A-Za-z]+( [A-Za-z]+)*$")
_NEEDS_QUOTES = re.compile(r'[\s"\\]')
# ASCII digits only (\d takes any script's digits, which int() may refuse), and few of them.
_ENDPOS = re.compile(r" endpos=(-?[0-9]{1,18})$")

# Limits on what a peer may make us hold (it may be a stranger, not Asterisk). Asterisk reads
# commands into an 8 KiB buffer (AGI_BUF_LEN); its replies carry at most a variable's value,
# so 64 KiB per line is far beyond any real reply. Its environment is 24 `agi_*` lines plus at
# most 127 `agi_arg_N` (MAX_ARGS 128), a few KiB in all.
MAX_LINE = 65536
MAX_ENV_LINES = 256
MAX_ENV_BYTES = 65536
MAX_USAGE_LINES = 256


# --------------------------------------------------------------------------- environment


_ENV_FIELDS = (
    "network", "network_script", "request", "channel", "language", "type", "uniqueid",
    "version", "callerid", "calleridname", "callingpres", "callingani2", "callington",
    "callingtns", "dnid", "rdnis", "context", "extension", "priority", "enhanced",
    "accountcode", "threadid",
)  # fmt: skip


@dataclass(frozen=True)
class AgiEnvironment:
    """The `agi_*` block Asterisk sends first. Values are kept verbatim (empty stays empty);
    `raw` holds every line in order (names without `agi_`), `args` the `agi_arg_N` values."""

    network: str = ""
    network_script: str = ""
    request: str = ""
    channel: str = ""
    language: str = ""
    type: str = ""
    uniqueid: str = ""
    version: str = ""
    callerid: str = ""
    calleridname: str = ""
    callingpres: str = ""
    callingani2: str = ""
    callington: str = ""
    callingtns: str = ""
    dnid: str = ""
    rdnis: str = ""
    context: str = ""
    extension: str = ""
    priority: str = ""
    enhanced: str = ""
    accountcode: str = ""
    threadid: str = ""
    args: list[str] = field(default_factory=list)
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def is_network(self) -> bool:
        return self.network == "yes"

    @property
    def is_enhanced(self) -> bool:
        """EAGI (audio on fd 3): `agi_enhanced: 1.0`."""
        return self.enhanced not in ("", "0.0")

    @property
    def script(self) -> str:
        """The script path of a FastAGI URL, without its query string."""
        return self.network_script.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """The query string of `agi_network_script`, parsed (a repeated key keeps the last)."""
        return dict(parse_qsl(self.network_script.partition("?")[2], keep_blank_values=True))

    @property
    def priority_number(self) -> int:
        digits = self.priority.isascii() and self.priority.isdigit()
        return int(self.priority[:18]) if digits else 0

    @property
    def caller_number(self) -> str | None:
        """Caller ID number, or None when Asterisk says `unknown` (or nothing)."""
        return _known(self.callerid)

    @property
    def caller_name(self) -> str | None:
        return _known(self.calleridname)

    @property
    def dialed_number(self) -> str | None:
        """DNIS: `agi_dnid`, or None when unknown (Local channels put it in agi_extension)."""
        return _known(self.dnid)

    @property
    def redirecting_number(self) -> str | None:
        return _known(self.rdnis)


def _known(value: str) -> str | None:
    return None if value in _UNKNOWN else value


def parse_environment(lines: Iterable[str]) -> AgiEnvironment:
    """Build the environment from `agi_name: value` lines (without the final blank line)."""
    raw: dict[str, str] = {}
    args: dict[int, str] = {}
    for line in lines:
        name, sep, value = line.partition(": ")
        if not sep and line.endswith(":"):
            name, sep, value = line[:-1], ":", ""
        if not sep or not name.startswith("agi_"):
            raise AgiProtocolError(f"bad AGI environment line: {line!r}")
        key = name[4:]
        if key.startswith("arg_") and key[4:].isdigit():
            args[int(key[4:])] = value
        raw[key] = value
    known = {k: v for k, v in raw.items() if k in _ENV_FIELDS}
    return AgiEnvironment(**known, args=[args[i] for i in sorted(args)], raw=raw)


def format_environment(pairs: Sequence[tuple[str, str]]) -> bytes:
    """Asterisk side: `agi_<name>: <value>` lines (the space stays for empty values) + blank."""
    body = "".join(f"agi_{name}: {value}\n" for name, value in pairs)
    return (body + "\n").encode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------- commands


def encode_command(command: str, *args: str) -> bytes:
    """Encode one command line. `command` is the command words (`"STREAM FILE"`), sent as is;
    each argument is quoted when it needs it. CR or LF anywhere is refused: it would let the
    argument inject a second command."""
    if not _COMMAND_NAME.match(command):
        raise AgiEncodeError(f"bad AGI command name: {command!r}")
    words = [command]
    for i, arg in enumerate(args, 1):
        if "\r" in arg or "\n" in arg or "\x00" in arg:
            raise AgiEncodeError(f"AGI argument {i} of {command} contains CR/LF/NUL: {arg!r}")
        words.append(quote_argument(arg))
    return (" ".join(words) + "\n").encode("utf-8")


def quote_argument(arg: str) -> str:
    if arg and not _NEEDS_QUOTES.search(arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_command_line(line: bytes) -> list[str]:
    """Asterisk side: split one command line (its `\\n` already removed) into words.

    Spaces and tabs separate words unless quoted; `"` toggles quoting (so `""` is an empty
    word); a backslash makes the next character literal. A `\\r` is an ordinary character, as
    in Asterisk. Bytes that are not UTF-8 survive as surrogates (encode with surrogateescape)."""
    text = line.decode("utf-8", "surrogateescape")
    words: list[str] = []
    cur: list[str] = []
    started = quoted = escaped = False
    for ch in text:
        if escaped:
            cur.append(ch)
            started, escaped = True, False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted, started = not quoted, True
        elif ch in " \t" and not quoted:
            if started:
                words.append("".join(cur))
                cur, started = [], False
        else:
            cur.append(ch)
            started = True
    if started:
        words.append("".join(cur))
    return words


def format_result(
    result: int | str, *, data: str | None = None, endpos: int | None = None
) -> bytes:
    """Asterisk side: `200 result=<r>[ (<data>)][ endpos=<n>]\\n`."""
    text = f"200 result={result}"
    if data is not None:
        text += f" ({data})"
    if endpos is not None:
        text += f" endpos={endpos}"
    return (text + "\n").encode("utf-8", "surrogateescape")


def format_usage(usage: str) -> tuple[bytes, bytes]:
    """Asterisk side: the 520 reply as (first line, usage text + closing line); Asterisk sends
    the second part a little later, in its own write."""
    body = usage if usage.endswith("\n") else usage + "\n"
    return USAGE_520_HEAD, body.encode("utf-8") + USAGE_520_TAIL


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AgiResult:
    """One reply. `code` is 200/510/511/520; for 200, `result` is the text after `result=`
    (may be empty or a digit string for GET DATA), `data` the parenthesised part and `endpos`
    the playback offset. Flags like `(timeout)` arrive in `data`."""

    code: int
    result: str = ""
    data: str | None = None
    endpos: int | None = None
    text: str = ""
    usage: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def value(self) -> int | None:
        """`result=` as an integer, None when it is empty or not a number (GET DATA `*9`)."""
        try:
            return int(self.result)
        except ValueError:
            return None

    @property
    def digit(self) -> str | None:
        """The key pressed, for results that carry an ASCII code (STREAM FILE, WAIT FOR DIGIT,
        GET OPTION, RECORD FILE): `49` -> `"1"`; None for 0, -1 and non-digits."""
        value = self.value
        return chr(value) if value is not None and 0 < value < 0x110000 else None

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"

    @property
    def hangup(self) -> bool:
        return self.code == 511 or self.data == "hangup"


@dataclass(frozen=True)
class HangupNotice:
    """The unsolicited `HANGUP` line."""


AgiEvent = AgiEnvironment | AgiResult | HangupNotice


def parse_result_line(line: str) -> AgiResult:
    """Parse one single-line reply (not 520-, not HANGUP)."""
    code_text, _, rest = line.partition(" ")
    if len(code_text) != 3 or not (code_text.isascii() and code_text.isdigit()):
        raise AgiProtocolError(f"bad AGI reply: {line!r}")
    code = int(code_text)
    if code != 200:
        return AgiResult(code=code, text=rest)
    if not rest.startswith("result="):
        raise AgiProtocolError(f"bad AGI 200 reply: {line!r}")
    rest = rest[len("result=") :]
    endpos: int | None = None
    m = _ENDPOS.search(rest)
    if m:
        endpos, rest = int(m[1]), rest[: m.start()]
    result, sep, tail = rest.partition(" ")
    data: str | None = None
    if sep:
        if not (tail.startswith("(") and tail.endswith(")")):
            raise AgiProtocolError(f"bad AGI 200 reply: {line!r}")
        data = tail[1:-1]
    return AgiResult(code=200, result=result, data=data, endpos=endpos, text=rest)


class AgiReader:
    """Incremental reader of what Asterisk sends: feed bytes (any chunking), get events.

    With `expect_environment` (the default) the first event is the AgiEnvironment."""

    def __init__(self, *, expect_environment: bool = True, max_line: int = MAX_LINE) -> None:
        self._buf = bytearray()
        self._max_line = max_line
        self._env: list[str] | None = [] if expect_environment else None
        self._env_bytes = 0
        self._usage: list[str] | None = None
        self._broken: AgiProtocolError | None = None

    def feed(self, data: bytes) -> list[AgiEvent]:
        """Events for every complete line. Raises AgiProtocolError (and keeps raising: the
        stream is out of step) on a line over the limit or anything that is not AGI."""
        if self._broken is not None:
            raise self._broken
        try:
            return self._feed(data)
        except AgiProtocolError as err:
            self._broken = err
            self._buf.clear()
            raise

    def _feed(self, data: bytes) -> list[AgiEvent]:
        scan = len(self._buf)  # the part already searched holds no newline
        self._buf += data
        events: list[AgiEvent] = []
        while (nl := self._buf.find(b"\n", scan)) >= 0:
            self._check_length(nl)
            line = self._buf[:nl].decode("utf-8", "replace")
            del self._buf[: nl + 1]
            scan = 0
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._check_length(len(self._buf))
        return events

    def _check_length(self, length: int) -> None:
        if length > self._max_line:
            raise AgiProtocolError(f"AGI line longer than {self._max_line} bytes")

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished line held (never more than the line limit)."""
        return len(self._buf)

    @property
    def pending(self) -> bool:
        """True when a partial line or an unfinished 520 block is buffered."""
        return bool(self._buf) or self._usage is not None

    def _line(self, line: str) -> AgiEvent | None:
        if self._env is not None:
            if line:
                self._env_bytes += len(line) + 1
                if len(self._env) >= MAX_ENV_LINES or self._env_bytes > MAX_ENV_BYTES:
                    raise AgiProtocolError(
                        f"AGI environment over {MAX_ENV_LINES} lines or {MAX_ENV_BYTES} bytes")
                self._env.append(line)
                return None
            env, self._env = parse_environment(self._env), None
            return env
        if self._usage is not None:
            if line.startswith("520 "):
                usage, self._usage = "\n".join(self._usage), None
                return AgiResult(code=520, text=line[4:], usage=usage)
            if len(self._usage) >= MAX_USAGE_LINES:
                raise AgiProtocolError(f"AGI 520 usage text over {MAX_USAGE_LINES} lines")
            self._usage.append(line)
            return None
        if line == "HANGUP":
            return HangupNotice()
        if line.startswith("520-"):
            self._usage = []
            return None
        return parse_result_line(line)
