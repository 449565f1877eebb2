"""Emulated AGI media commands: STREAM FILE, CONTROL STREAM FILE, GET OPTION, GET DATA,
WAIT FOR DIGIT, SAY *, and the Playback application.

Playback is timed with the prompt lengths of the call's PromptLookup. STREAM FILE's endpos is
in samples and counts whole 20 ms frames (the frame being played when the digit came counts),
which is what the traces show: 1703 ms into the prompt -> endpos=13760.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ivr.telephony.agi import format_result
from ivr.telephony.emulator.agi_call import SAMPLES_PER_MS, EmulatedCall
from ivr.telephony.emulator.agi_cmdbase import Command, ShowUsage, check_argc
from ivr.telephony.emulator.agi_events import PromptPlayed
from ivr.telephony.emulator.agi_record import record_file

ALL_DIGITS = "0123456789*#ABCD"
FRAME_SAMPLES = 160
# Asterisk's console says the same (file.c, ast_openstream): where a missing prompt shows.
log = logging.getLogger("ivr.telephony.emulator.asterisk")


@dataclass(frozen=True)
class Played:
    missing: bool = False
    digit: str | None = None
    hung_up: bool = False
    endpos: int = 0
    elapsed_ms: float = 0.0


async def play(
    call: EmulatedCall,
    queue: asyncio.Queue[str] | None,
    name: str,
    escape: str,
    offset: int = 0,
) -> Played:
    """Play one prompt; a digit in `escape` stops it, other digits are ignored."""
    length = call.prompt_length(name)
    now = call.clock.now
    if length is None:
        log.warning("File %s does not exist in any format", name)
        call.events.add(PromptPlayed(now(), name, 0, None))
        return Played(missing=True)
    start = now()
    deadline = start + max(0, length - offset) / SAMPLES_PER_MS
    while True:
        got = await call.wait(queue, deadline - now())
        elapsed = now() - start
        if got is None:
            call.events.add(PromptPlayed(now(), name, length, length))
            return Played(endpos=length, elapsed_ms=elapsed)
        if got == "hangup" or got in escape:
            pos = min(length, offset + (int(elapsed // 20) + 1) * FRAME_SAMPLES)
            hung = got == "hangup"
            digit = None if hung else got
            call.events.add(PromptPlayed(now(), name, pos, length, digit, hung))
            return Played(digit=digit, hung_up=hung, endpos=pos, elapsed_ms=elapsed)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


async def stream_file(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 4, 5)
    offset = _int(argv[4], 0) if len(argv) == 5 else 0
    with call.listening(argv[3]) as queue:
        played = await play(call, queue, argv[2], argv[3], offset)
    if played.missing:  # res_agi answers with the offset it was given, unplayed
        return format_result(-1, endpos=offset)
    result = -1 if played.hung_up else ord(played.digit) if played.digit else 0
    failed = played.digit is not None or played.hung_up
    call.set_variable("PLAYBACKSTATUS", "FAILED" if failed else "SUCCESS")
    return format_result(result, endpos=played.endpos)


async def control_stream_file(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 5, 10)
    offset_ms = _int(argv[9], 0) if len(argv) == 10 else 0
    with call.listening(argv[4]) as queue:
        played = await play(call, queue, argv[3], argv[4], offset_ms * SAMPLES_PER_MS)
    if played.missing:
        return format_result(-1, endpos=offset_ms)
    position_ms = offset_ms + int(played.elapsed_ms)
    if played.hung_up:
        return format_result(-1, endpos=position_ms)
    if played.digit:
        return format_result(ord(played.digit), endpos=position_ms)
    return format_result(0, endpos=-1)  # -1: played to the end


async def get_option(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 4, 5)
    timeout = _int(argv[4], 0) if len(argv) == 5 else call.options.default_dtimeout_ms
    with call.listening() as queue:
        played = await play(call, queue, argv[2], argv[3])
        if played.missing:
            return format_result(-1, endpos=0)
        if played.hung_up or played.digit:
            result = -1 if played.hung_up else ord(played.digit or "\0")
            return format_result(result, endpos=played.endpos)
        got = await call.wait(queue, None if timeout < 0 else timeout)
    if got == "hangup":
        return format_result(-1, endpos=played.endpos)
    result = ord(got) if got and got in argv[3] else 0  # the traces: timeout starts at prompt end
    return format_result(result, endpos=played.endpos)


async def wait_for_digit(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 4, 4)
    timeout = _int(argv[3], 0)
    with call.listening() as queue:
        got = await call.wait(queue, None if timeout < 0 else timeout)
    if got == "hangup":
        return format_result(-1)
    return format_result(ord(got) if got else 0)


async def get_data(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 3, 5)
    timeout = _int(argv[3], 0) if len(argv) > 3 else 0
    if timeout <= 0:
        timeout = int(call.options.get_data_timeout_ms)
    maxdigits = _int(argv[4], 0) if len(argv) > 4 else 0
    if maxdigits <= 0:
        maxdigits = 1024
    with call.listening() as queue:
        played = await play(call, queue, argv[2], ALL_DIGITS)
        if played.missing or played.hung_up:
            return format_result(-1)
        digits, got = "", played.digit
        while True:
            if got is None:
                got = await call.wait(queue, timeout)
            if got == "hangup":
                return format_result(-1)
            if got is None:
                return format_result(digits, data="timeout")
            if got == "#":
                return format_result(digits)
            digits += got
            if len(digits) >= maxdigits:
                return format_result(digits)
            got = None


async def _say(call: EmulatedCall, files: list[str], escape: str) -> bytes:
    with call.listening(escape) as queue:
        for name in files:
            played = await play(call, queue, name, escape)
            if played.hung_up:
                return format_result(-1)
            if played.digit:
                return format_result(ord(played.digit))
    return format_result(0)


_DIGIT_FILES = {"*": "digits/star", "#": "digits/pound"}


def digit_files(text: str) -> list[str]:
    return [_DIGIT_FILES.get(ch, f"digits/{ch}") for ch in text]


def number_files(n: int) -> list[str]:
    """English number prompts, the way Asterisk's say.c splits them (simplified)."""
    if n < 0:
        return ["digits/minus", *number_files(-n)]
    if n >= 1000:
        rest = number_files(n % 1000) if n % 1000 else []
        return [*number_files(n // 1000), "digits/thousand", *rest]
    if n >= 100:
        rest = number_files(n % 100) if n % 100 else []
        return [f"digits/{n // 100}", "digits/hundred", *rest]
    if n > 20 and n % 10:
        return [f"digits/{n - n % 10}", f"digits/{n % 10}"]
    return [f"digits/{n}"]


async def say_digits(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 4, 4)
    return await _say(call, digit_files(argv[2]), argv[3])


async def say_number(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 4, 5)
    try:
        number = int(argv[2])
    except ValueError:
        raise ShowUsage from None
    return await _say(call, number_files(number), argv[3])


async def say_alpha(call: EmulatedCall, argv: list[str]) -> bytes:
    check_argc(argv, 4, 4)
    files = [f"letters/{ch.lower()}" if ch.isalpha() else f"digits/{ch}" for ch in argv[2]]
    return await _say(call, files, argv[3])


async def playback_app(call: EmulatedCall, data: str) -> int:
    """`EXEC Playback a&b`: plays each file, not interruptible; a missing file only sets
    PLAYBACKSTATUS=FAILED (the app still returns 0). -1 when the caller hangs up."""
    if call.dead.is_set():
        return -1
    status = "SUCCESS"
    for name in data.partition(",")[0].split("&"):
        played = await play(call, None, name, "")
        if played.hung_up:
            return -1
        if played.missing:
            status = "FAILED"
    call.set_variable("PLAYBACKSTATUS", status)
    return 0


MEDIA_COMMANDS: dict[tuple[str, ...], Command] = {
    ("STREAM", "FILE"): Command(stream_file),
    ("CONTROL", "STREAM", "FILE"): Command(control_stream_file),
    ("GET", "OPTION"): Command(get_option),
    ("GET", "DATA"): Command(get_data),
    ("WAIT", "FOR", "DIGIT"): Command(wait_for_digit),
    ("SAY", "DIGITS"): Command(say_digits),
    ("SAY", "NUMBER"): Command(say_number),
    ("SAY", "ALPHA"): Command(say_alpha),
    ("RECORD", "FILE"): Command(record_file),
}
