"""Emulated RECORD FILE, following the traces (and what res_agi does underneath):

* `endpos` counts the samples of the frames actually received (a silent Local channel sends
  none, so endpos=0);
* ended by silence: result = ms left on the timeout, `(timeout)`, and the file is trimmed by
  (silence - 1 s) -- 2 s of silence detection cuts 1 s;
* ended by an escape digit: `(dtmf)`, the last 200 ms are cut;
* a format Asterisk cannot write: `200 result=-1 (writefile)` at once;
* BEEP plays a beep first; the timeout starts after it.
No file is written: the emulator only reports what Asterisk would.
"""

from __future__ import annotations

import math

from ivr.telephony.agi import format_result
from ivr.telephony.emulator.agi_call import SAMPLES_PER_MS, EmulatedCall
from ivr.telephony.emulator.agi_cmdbase import check_argc
from ivr.telephony.emulator.agi_events import Recorded

FORMATS = {"wav", "wav49", "gsm", "ulaw", "alaw", "sln", "slin", "sln16", "g722", "g729",
           "ilbc", "ogg", "WAV", "au", "h263", "h264", "vox", "siren7", "siren14"}  # fmt: skip


class _Meter:
    """Frames received and the current run of silent frames, advanced as time passes."""

    def __init__(self, call: EmulatedCall) -> None:
        self.call = call
        self.last = call.clock.now()
        self.received_ms = 0.0
        self.silence_ms = 0.0
        self.state = call.audio_state

    def advance(self) -> None:
        """Account for the time since the last call with the audio state seen then."""
        now = self.call.clock.now()
        span, self.last = now - self.last, now
        state, self.state = self.state, self.call.audio_state
        if state is None:
            return  # no frames: nothing recorded, silence detection does not run
        self.received_ms += span
        self.silence_ms = 0.0 if state else self.silence_ms + span

    @property
    def samples(self) -> int:
        return int(self.received_ms * SAMPLES_PER_MS)


async def record_file(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 6, 10)
    path, fmt, escape = argv[2], argv[3], argv[4]
    try:
        timeout = int(argv[5])
    except ValueError:
        timeout = -1
    silence = 0
    for arg in argv[7:]:
        if arg.startswith("s=") and arg[2:].isdigit():
            silence = int(arg[2:]) * 1000
    beep = any(arg.upper() == "BEEP" for arg in argv[6:])

    def done(reply: bytes, endpos: int, outcome: str) -> bytes:
        call.events.add(Recorded(call.clock.now(), path, fmt, endpos, outcome))
        return reply

    if fmt not in FORMATS:
        return done(format_result(-1, data="writefile"), 0, "writefile")
    if beep and await call.wait(None, call.options.beep_ms) == "hangup":
        return done(format_result(-1, data="hangup", endpos=0), 0, "hangup")
    meter = _Meter(call)
    end = meter.last + timeout if timeout > 0 else math.inf
    with call.listening() as queue:
        while True:
            meter.advance()
            now = meter.last
            silent = silence > 0 and meter.state is False
            if silent and meter.silence_ms > silence:
                trimmed = max(0, meter.samples - (silence - 1000) * SAMPLES_PER_MS)
                left = int(end - now) if end != math.inf else 0
                return done(format_result(left, data="timeout", endpos=trimmed), trimmed,
                            "silence")  # fmt: skip
            if now >= end:
                return done(format_result(0, data="timeout", endpos=meter.samples),
                            meter.samples, "timeout")  # fmt: skip
            wake = min(end, now + silence - meter.silence_ms + 1 if silent else math.inf)
            got = await call.wait(
                queue, None if wake == math.inf else wake - now, also=call.audio_changed
            )
            meter.advance()
            if got == "hangup":
                return done(format_result(-1, data="hangup", endpos=meter.samples),
                            meter.samples, "hangup")  # fmt: skip
            if got is not None and got != "also" and got in escape:
                cut = max(0, meter.samples - 200 * SAMPLES_PER_MS)
                return done(format_result(ord(got), data="dtmf", endpos=cut), cut, "dtmf")
