"""The emulated channel behind an AGI session: state, variables, DTMF, caller audio, hangup.

Facts from the traces that live here: there is no DTMF type-ahead (a digit is heard only when a
command is listening), CHANNEL STATUS is 4 while ringing and 6 when up, and SET CALLERID
replaces both the name and the number.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import wave
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.telephony.emulator.agi_events import (
    CallerAudio,
    Clock,
    DigitPressed,
    EventLog,
    HungUp,
    VariableSet,
)

SAMPLES_PER_MS = 8  # 8 kHz
ALL_KEYS = "0123456789*#ABCD"
AppHook = Callable[["EmulatedCall", str], Awaitable[int]]
"""An EXEC'd application (Dial, AudioSocket...): gets the call and the data, returns result."""
PromptLookup = Callable[[str], int | None]
"""Prompt name -> length in 8 kHz samples, or None when the file does not exist."""

# Lengths of the sound files used in the recorded traces (hello-test: 44549 samples).
TRACE_PROMPTS: dict[str, int] = {
    "hello-test": 44549,
    "goodbye-test": 6591,
    "beep": 2088,
    "silence/1": 8000,
    **{f"digits/{n}": 5056 for n in range(0, 21)},
    **{f"digits/{n}": 5056 for n in range(30, 100, 10)},
    "digits/hundred": 5056,
    "digits/thousand": 5056,
    "digits/star": 5056,
    "digits/pound": 5056,
}


def trace_prompts(name: str) -> int | None:
    """Asterisk's own sounds that the recorded host had, and nothing else: the default host,
    on which none of ivr's prompts are (STREAM FILE of one answers as for a missing file)."""
    return TRACE_PROMPTS.get(name)


def host_sounds(sounds_dir: Path | None, language: str = "en") -> PromptLookup:
    """The emulated host's sounds folder (Asterisk's astdatadir/sounds): Asterisk's own sounds
    plus the WAVs copied under `sounds_dir`, looked up as Asterisk does: `<lang>/<name>` first,
    then `<name>`. None: nothing was copied. Reads the folder now (before the loop runs)."""
    lengths: dict[str, int] = {}
    if sounds_dir is not None and sounds_dir.is_dir():
        lengths = wav_prompt_lengths(sounds_dir)

    def length(name: str) -> int | None:
        found = lengths.get(f"{language}/{name}", lengths.get(name))
        return found if found is not None else TRACE_PROMPTS.get(name)

    return length


def wav_prompt_lengths(directory: Path) -> dict[str, int]:
    """Lengths (in 8 kHz samples) of the WAV prompts under `directory`, keyed like Asterisk
    names sounds (`digits/1` for `digits/1.wav`). Synchronous: call it before the loop runs,
    then pass `lengths.get` as the PromptLookup."""
    lengths: dict[str, int] = {}
    for path in sorted(directory.rglob("*.wav")):
        with wave.open(str(path), "rb") as wav:
            rate, frames = wav.getframerate(), wav.getnframes()
        lengths[path.relative_to(directory).with_suffix("").as_posix()] = frames * 8000 // rate
    return lengths


@dataclass
class CallProfile:
    """What Asterisk knows about the call; it becomes the `agi_*` environment."""

    channel: str = "Local/agi@caller-sim-00000001;1"
    uniqueid: str = "1795339558.2"
    callerid: str = "5551234"
    calleridname: str = "Alice Example"
    dnid: str = "unknown"
    rdnis: str = "unknown"
    context: str = "ivr"
    extension: str = "s"
    priority: str = "1"
    language: str = "en"
    type: str = "Local"
    accountcode: str = ""
    threadid: str = "140133683291840"
    version: str = "22.10.1"
    answered: bool = True
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallOptions:
    answer_delay_ms: float = 500.0  # ANSWER on a ringing channel
    hangup_notice_ms: float = 40.0  # result=-1 ... HANGUP
    usage_delay_ms: float = 40.0  # 520 first line ... usage text
    dtmf_first_ms: float = 200.0  # SendDTMF: first digit ends after wait + tone
    dtmf_gap_ms: float = 350.0  # each further digit
    dtmf_tail_ms: float = 250.0  # SendDTMF returns this long after the last digit
    default_dtimeout_ms: float = 5000.0  # GET OPTION without a timeout
    get_data_timeout_ms: float = 6000.0  # GET DATA without a timeout
    beep_ms: float = 250.0
    agi_sighup: bool = True  # AGISIGHUP=no -> no HANGUP lines at all
    exit_on_hangup: bool = False  # AGIEXITONHANGUP=yes


class EmulatedCall:
    def __init__(
        self,
        profile: CallProfile,
        *,
        clock: Clock | None = None,
        prompts: PromptLookup = trace_prompts,
        options: CallOptions | None = None,
        database: dict[tuple[str, str], str] | None = None,
        events: EventLog | None = None,
    ) -> None:
        self.profile = profile
        self.clock = clock or Clock()
        self.prompts = prompts
        self.options = options or CallOptions()
        self.database = database if database is not None else {}
        self.events = events or EventLog()
        self.up = profile.answered
        self.dead = asyncio.Event()
        self.hangup_by: str | None = None
        self.callerid_num = profile.callerid
        self.callerid_name = profile.calleridname
        self.variables: dict[str, str] = dict(profile.variables)
        self.audio_state: bool | None = None  # None: no frames; True voiced; False silence
        self.audio_changed = asyncio.Event()
        self.audio_hook: Callable[[CallerAudio], Awaitable[None]] | None = None
        self.app_hooks: dict[str, AppHook] = {}
        self._listener: asyncio.Queue[str] | None = None
        self._accepting = ""
        self._listen_changed = asyncio.Event()
        # While media runs over AudioSocket every key is heard; a scripted caller who waits to
        # be asked also waits for this (the prompt on that stream to end).
        self.ask_gate: Callable[[], Awaitable[None]] | None = None

    # ------------------------------------------------------------------ caller actions
    def press(self, digit: str) -> None:
        """A DTMF digit ends now. Heard only if a command is listening (no type-ahead)."""
        heard = self._listener is not None and not self.dead.is_set()
        if heard and self._listener is not None:
            self._listener.put_nowait(digit)
        self.events.add(DigitPressed(self.clock.now(), digit, heard))

    def set_audio(self, voiced: bool | None) -> None:
        self.audio_state = voiced
        self.audio_changed.set()
        self.audio_changed = asyncio.Event()

    def hangup(self, by: str = "caller") -> None:
        if self.dead.is_set():
            return
        self.hangup_by = by
        self.dead.set()
        self.events.add(HungUp(self.clock.now(), by))

    # ------------------------------------------------------------------ for commands
    @contextlib.contextmanager
    def listening(self, accepts: str = ALL_KEYS) -> Iterator[asyncio.Queue[str]]:
        """A command is reading DTMF; `accepts` are the keys that would end or feed it."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._listener, self._accepting = queue, accepts
        self._notify_listen()
        try:
            yield queue
        finally:
            self._listener, self._accepting = None, ""
            self._notify_listen()

    def _notify_listen(self) -> None:
        self._listen_changed.set()
        self._listen_changed = asyncio.Event()

    async def until_accepting(self, digit: str) -> None:
        """Wait like a person who waits for the prompt before pressing: until a running command
        would take `digit` (and, on an AudioSocket stream, its prompt has ended), or the call
        ends."""
        while not self.dead.is_set():
            await self._until_listening(digit)
            listener, gate = self._listener, self.ask_gate
            if gate is None or self.dead.is_set():
                return
            await gate()
            if self._listener is listener:  # still the same command: its question is asked
                return

    async def _until_listening(self, digit: str) -> None:
        while not self.dead.is_set() and (self._listener is None or digit not in self._accepting):
            changed = asyncio.ensure_future(self._listen_changed.wait())
            dead = asyncio.ensure_future(self.dead.wait())
            try:
                await asyncio.wait([changed, dead], return_when="FIRST_COMPLETED")
            finally:
                changed.cancel()
                dead.cancel()

    async def wait(
        self,
        queue: asyncio.Queue[str] | None,
        timeout_ms: float | None,
        also: asyncio.Event | None = None,
    ) -> str | None:
        """Wait for a digit (returned), the hangup ("hangup"), `also` being set ("also") or
        the timeout (None). `timeout_ms=None` waits forever."""
        if self.dead.is_set():
            return "hangup"
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(self.dead.wait())]
        if queue is not None:
            waits.append(asyncio.ensure_future(queue.get()))
        if also is not None:
            waits.append(asyncio.ensure_future(also.wait()))
        timeout = None if timeout_ms is None else self.clock.seconds(timeout_ms)
        try:
            done, _ = await asyncio.wait(waits, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for w in waits:
                w.cancel()
        if waits[0] in done:
            return "hangup"
        if queue is not None and waits[1] in done:
            return str(waits[1].result())
        if also is not None and waits[-1] in done:
            return "also"
        return None

    def set_variable(self, name: str, value: str) -> None:
        if name.upper() == "CALLERID(NUM)":
            self.callerid_num = value
        elif name.upper() == "CALLERID(NAME)":
            self.callerid_name = value
        elif name.upper() == "CALLERID(ALL)":
            self.set_callerid(value)
        else:
            self.variables[name] = value
        self.events.add(VariableSet(self.clock.now(), name, value))

    def set_callerid(self, text: str) -> None:
        m = re.fullmatch(r'\s*(?:"(?P<q>[^"]*)"|(?P<n>[^<]*?))\s*(?:<(?P<num>[^>]*)>)?\s*', text)
        if m and m["num"] is not None:
            self.callerid_name, self.callerid_num = (m["q"] or m["n"] or ""), m["num"]
        else:
            self.callerid_name, self.callerid_num = "", text.strip()

    def get_variable(self, name: str) -> str | None:
        builtins: Mapping[str, str] = {
            "CALLERID(NUM)": self.callerid_num,
            "CALLERID(NAME)": self.callerid_name,
            "CALLERID(ALL)": f'"{self.callerid_name}" <{self.callerid_num}>',
            "CHANNEL": self.profile.channel,
            "EXTEN": self.profile.extension,
            "CONTEXT": self.profile.context,
            "PRIORITY": self.profile.priority,
            "UNIQUEID": self.profile.uniqueid,
            "LANGUAGE()": self.profile.language,
            "CHANNEL(LANGUAGE)": self.profile.language,
        }
        if name.upper() in builtins:
            return builtins[name.upper()]
        return self.variables.get(name)

    def substitute(self, text: str) -> str:
        """`${NAME}` expansion as GET FULL VARIABLE does it (unset -> empty)."""
        return re.sub(r"\$\{([^{}]*)\}", lambda m: self.get_variable(m[1]) or "", text)

    def prompt_length(self, name: str) -> int | None:
        return self.prompts(name)
