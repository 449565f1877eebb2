"""The console phone behind `ivr call`: plays Asterisk's side of one call against ivr's FastAGI.

The emulator speaks FastAGI byte for byte like Asterisk 22, so a call placed here runs exactly
the code a real call runs. Each `--input` is one caller action, taken in order.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import wave
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from ivr.call.session import HEARD, PLAYS, SAID
from ivr.errors import IvrError
from ivr.speech.errors import SpeechError
from ivr.speech.prompts import load_catalog
from ivr.telephony.agi import parse_command_line
from ivr.telephony.emulator import agi_events as ev
from ivr.telephony.emulator.agi_call import (
    CallProfile,
    PromptLookup,
    trace_prompts,
    wav_prompt_lengths,
)
from ivr.telephony.emulator.agi_caller import (
    Audio,
    Hangup,
    Pause,
    PressWhenAsked,
    SpeakWhenAsked,
    Speech,
    Step,
)
from ivr.telephony.emulator.agi_emulator import AgiEmulator

INPUT_FORMS = "dtmf:KEYS, wait:SECONDS, wav:PATH, say:TEXT or hangup"
ASTERISK_SET = frozenset({"PLAYBACKSTATUS"})  # set by Asterisk's apps, not by the flow
SPEECH_MS_PER_CHAR = 70  # a rough speaking rate, for how long a `say:` input keeps the line busy
# Each `ivr call` process numbers its calls from its pid, as Asterisk numbers channels.
_serials = itertools.count(os.getpid() * 1000)


class PhoneError(IvrError):
    """A console-phone argument is wrong or the server cannot be reached."""


def parse_input(text: str) -> Step:
    kind, _, value = text.partition(":")
    try:
        if kind == "dtmf" and value and all(c in "0123456789*#ABCD" for c in value):
            return PressWhenAsked(value)
        if kind == "wait":
            return Pause(float(value) * 1000)
        if kind == "hangup" and not value:
            return Hangup()
        if kind == "say" and value:
            return SpeakWhenAsked(Speech(len(value) * SPEECH_MS_PER_CHAR, text=value))
        if kind == "wav" and value:
            return SpeakWhenAsked(Audio(_wav_ms(Path(value)), wav=value))
    except (ValueError, OSError, EOFError, wave.Error) as err:
        raise PhoneError(f"bad --input {text!r}: {err}; use {INPUT_FORMS}") from None
    raise PhoneError(f"bad --input {text!r}: use {INPUT_FORMS}")


def _wav_ms(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() * 1000 / wav.getframerate()


def prompt_lookup(prompts_dir: Path, language: str) -> PromptLookup:
    """Prompt lengths from the rendered catalog, named as flows play them (`ivr/<id>`); other
    names are Asterisk's own sounds (digits/1, beep...), which every Asterisk has."""
    folder = prompts_dir / language
    lengths = wav_prompt_lengths(folder) if folder.is_dir() else {}

    def length(name: str) -> int | None:
        if name.startswith("ivr/"):
            return lengths.get(name.removeprefix("ivr/"))
        return trace_prompts(name)

    return length


def prompt_words(prompts_dir: Path, language: str) -> dict[str, str]:
    """What each catalog prompt says, by the name flows play it as (`ivr/<id>`); an unreadable
    catalog leaves transcripts with the names alone."""
    try:
        catalog = load_catalog(prompts_dir)
    except SpeechError:
        return {}
    return {f"ivr/{p.id}": p.text for p in catalog if p.language == language}


def with_words(item: dict[str, Any], words: dict[str, str]) -> dict[str, Any]:
    """A prompt event gains `words`, what the caller hears (None for Asterisk's own sounds)."""
    if item["event"] != "prompt":
        return item
    return {**item, "words": words.get(item["name"])}


def make_emulator(
    url: str, *, caller_id: str, dnis: str, steps: Sequence[Step], prompts: PromptLookup,
    language: str = "en", clock: ev.Clock | None = None,
) -> AgiEmulator:
    # Asterisk's uniqueid is epoch.sequence; ours differs per call so logs tell calls apart.
    serial = next(_serials)
    profile = CallProfile(
        channel=f"PJSIP/ivr-call-{serial:08x}", callerid=caller_id or "unknown",
        calleridname="", dnid=dnis, extension=dnis, context="ivr-inbound", language=language,
        type="PJSIP", answered=False, uniqueid=f"{time.time():.0f}.{serial}",
    )
    return AgiEmulator(url, profile=profile, args=[dnis], caller=steps, prompts=prompts,
                       clock=clock)


async def run_call(emulator: AgiEmulator, max_seconds: float) -> AsyncIterator[dict[str, Any]]:
    """Run the call and yield its events as they happen; the caller hangs up at `max_seconds`."""
    try:
        task = asyncio.create_task(_run_bounded(emulator, max_seconds))
        async for event in emulator.events.stream():
            item = to_json(event)
            if item is not None:
                yield item
        await task
    except ConnectionError as err:
        raise PhoneError(
            f"no ivr at {emulator.url}: {err.strerror or err}; start 'ivr serve' or use "
            "--in-process"
        ) from None


async def _run_bounded(emulator: AgiEmulator, max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    timer = loop.call_later(max_seconds, emulator.hangup)
    try:
        await emulator.run()
    except ConnectionError:
        emulator.events.add(ev.SessionClosed(0.0))  # ends the event stream; run() re-raises
        raise
    finally:
        timer.cancel()


def to_json(event: ev.EmuEvent) -> dict[str, Any] | None:
    """One JSON object per event that a person would care about; wire lines are left out."""
    body = _BODIES.get(type(event), lambda e: None)(event)
    if body is None:
        return None
    return {"t": round(event.t_ms / 1000, 3), **body}


def _prompt(e: ev.PromptPlayed) -> dict[str, Any]:
    return {
        "event": "prompt", "name": e.name, "missing": e.length is None,
        "heard_s": round(e.endpos / 8000, 2),
        "length_s": None if e.length is None else round(e.length / 8000, 2),
        "interrupted_by": e.interrupted_by, "caller_hung_up": e.hung_up,
    }


def _variable(e: ev.VariableSet) -> dict[str, Any] | None:
    if e.name in ASTERISK_SET:
        return None
    if e.name == "IVR_TRANSFER_TO":
        return {"event": "transfer", "to": e.value}
    if e.name == "IVR_INTERACTION_ID":
        return {"event": "interaction", "id": int(e.value)}
    return {"event": "variable", "name": e.name, "value": e.value}


def _command(e: ev.CommandReceived) -> dict[str, Any] | None:
    """What the IVR said (TTS) or understood (speech), announced on the console by VERBOSE."""
    words = parse_command_line(e.line.rstrip(b"\n"))
    if len(words) < 2 or words[0].upper() != "VERBOSE":
        return None
    label, _, text = words[1].partition(": ")
    if label == PLAYS:  # a prompt streamed over AudioSocket rather than STREAM FILE
        return {"event": "prompt", "name": text, "missing": False, "heard_s": None,
                "length_s": None, "interrupted_by": None, "caller_hung_up": False}
    kind = {SAID: "say", HEARD: "heard"}.get(label)
    return {"event": kind, "text": text} if kind else None


_BODIES: dict[type[Any], Callable[[Any], dict[str, Any] | None]] = {
    ev.CommandReceived: _command,
    ev.Answered: lambda e: {"event": "answer"},
    ev.PromptPlayed: _prompt,
    ev.DigitPressed: lambda e: {"event": "dtmf", "digit": e.digit, "heard": e.heard},
    ev.CallerAudio: lambda e: {"event": "speech" if e.text else "audio", "text": e.text,
                               "seconds": round(e.ms / 1000, 2)},
    ev.VariableSet: _variable,
    ev.AppExecuted: lambda e: {"event": "app", "app": e.app, "data": e.data},
    ev.Recorded: lambda e: {"event": "record", "path": e.path, "outcome": e.outcome},
    ev.HungUp: lambda e: {"event": "hangup", "by": "ivr" if e.by == "app" else e.by},
    ev.SessionClosed: lambda e: {"event": "end"},
}


def to_text(item: dict[str, Any]) -> str:
    """A transcript line: `  1.23 s  IVR plays ivr/goodbye "Goodbye." (0.9 s)`."""
    kind = item["event"]
    if kind == "prompt":
        name = item["name"] + (f' "{item["words"]}"' if item.get("words") else "")
        if item["missing"]:
            what = f"IVR plays {name}: no such prompt file"
        elif item["interrupted_by"]:
            what = f"IVR plays {name} (interrupted by {item['interrupted_by']} at " \
                   f"{item['heard_s']} s)"
        elif item["caller_hung_up"]:
            what = f"IVR plays {name} (caller hung up at {item['heard_s']} s)"
        elif item["length_s"] is None:
            what = f"IVR plays {name}"
        else:
            what = f"IVR plays {name} ({item['length_s']} s)"
    else:
        what = _TEXTS[kind](item) if kind in _TEXTS else f"{kind} {item}"
    return f"{item['t']:7.2f} s  {what}"


_TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "answer": lambda i: "IVR answers",
    "dtmf": lambda i: f"caller presses {i['digit']}" + ("" if i["heard"] else " (not heard)"),
    "speech": lambda i: f"caller says {i['text']!r}",
    "say": lambda i: f"IVR says {i['text']!r}",
    "heard": lambda i: f"IVR understood {i['text']}",
    "audio": lambda i: f"caller speaks for {i['seconds']} s",
    "transfer": lambda i: f"IVR transfers the caller to {i['to']}",
    "interaction": lambda i: f"interaction {i['id']} opened",
    "variable": lambda i: f"IVR sets {i['name']}={i['value']}",
    "app": lambda i: f"IVR runs {i['app']}({i['data']})",
    "record": lambda i: f"IVR records {i['path']} ({i['outcome']})",
    "hangup": lambda i: f"{'caller' if i['by'] == 'caller' else 'IVR'} hangs up",
    "end": lambda i: "call ended",
}
