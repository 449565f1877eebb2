"""`ivr call` (the console phone) and `ivr agi` (a classic AGI/EAGI script for Asterisk)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from ivr.config import Settings, load_settings
from ivr.phone import (
    make_emulator,
    parse_input,
    prompt_lookup,
    prompt_words,
    run_call,
    to_text,
    with_words,
)

CALL_EXAMPLE = "ivr call --from +15551230001 --input dtmf:1 --input hangup --json"


def add_telephony_commands(sub: Any) -> None:
    call = sub.add_parser(
        "call", help="place a test call against ivr (the emulator plays Asterisk)",
        description=f"Place a test call through FastAGI. Example: {CALL_EXAMPLE}. The call asks "
        "the server for one AudioSocket per turn (media=turns on its AGI URL), so each prompt "
        "shows as it starts; real calls hold one AudioSocket from answer (IVR_MEDIA_ONE_SESSION).",
    )
    call.add_argument("--from", dest="caller", default="+15551230001", help="caller ID")
    call.add_argument("--to", dest="dnis", default="18005550100", help="dialled number")
    call.add_argument("--input", action="append", default=[], metavar="ACTION",
                      help="dtmf:KEYS, wait:SECONDS, wav:PATH, say:TEXT or hangup; repeatable")
    call.add_argument("--interactive", action="store_true",
                      help="type keys (Enter sends them), 'h' hangs up")
    call.add_argument("--json", action="store_true", help="one JSON object per line")
    call.add_argument("--language", default="en", help="channel language (prompt set)")
    call.add_argument("--server", help="FastAGI URL (default "
                      "agi://IVR_AGI_HOST:IVR_AGI_PORT/DNIS?media=turns)")
    call.add_argument("--in-process", action="store_true",
                      help="run ivr's call handling inside this command instead of a server")
    call.add_argument("--max-seconds", type=float, default=120.0,
                      help="the caller hangs up after this long")
    call.set_defaults(func=cmd_call)
    agi = sub.add_parser("agi", help="run as a classic AGI/EAGI script (Asterisk starts it)",
                         description="Use in the dialplan as AGI(ivr,agi) or EAGI(...).")
    agi.set_defaults(func=cmd_agi)


def cmd_call(args: argparse.Namespace) -> int:
    settings = load_settings()
    steps = [parse_input(text) for text in args.input]
    asyncio.run(_call(args, settings, steps))
    return 0


async def _call(args: argparse.Namespace, settings: Settings, steps: list[Any]) -> None:
    async with _target(args, settings) as url:
        prompts = prompt_lookup(settings.prompts_dir, args.language)
        words = prompt_words(settings.prompts_dir, args.language)
        emulator = make_emulator(url, caller_id=args.caller, dnis=args.dnis, steps=steps,
                                 prompts=prompts, language=args.language)
        keys = asyncio.create_task(_keyboard(emulator)) if args.interactive else None
        try:
            async for event in run_call(emulator, args.max_seconds):
                item = with_words(event, words)
                print(json.dumps(item) if args.json else to_text(item), flush=True)
        finally:
            if keys is not None:
                keys.cancel()


@contextlib.asynccontextmanager
async def _target(args: argparse.Namespace, settings: Settings) -> AsyncIterator[str]:
    if not args.in_process:
        # media=turns: the transcript shows each turn as it starts (see ivr/call/held.py)
        yield args.server or \
            f"agi://{settings.agi_host}:{settings.agi_port}/{args.dnis}?media=turns"
        return
    from ivr.calls import import_flows, make_call_handler
    from ivr.store.db import Database, require_current
    from ivr.telephony.fastagi import FastAgiServer

    await asyncio.to_thread(require_current, settings.database_url)
    db = Database(settings.database_url)
    try:
        await import_flows(db, settings)
        async with FastAgiServer(make_call_handler(db, settings), "127.0.0.1", 0) as server:
            yield f"agi://127.0.0.1:{server.port}/{args.dnis}"
    finally:
        db.dispose()


async def _keyboard(emulator: Any) -> None:
    """Interactive input: a line of keys is pressed at once, 'h' hangs up."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line.lower() in ("h", "hangup"):
            emulator.hangup()
            return
        for key in line:
            emulator.press(key)
    emulator.hangup()  # end of input (Ctrl-D) is a hangup


def cmd_agi(args: argparse.Namespace) -> int:
    settings = load_settings()
    asyncio.run(_agi(settings))
    return 0


async def _agi(settings: Settings) -> None:
    from ivr.calls import make_call_handler
    from ivr.store.db import Database, require_current
    from ivr.telephony.agiscript import connect_stdio

    await asyncio.to_thread(require_current, settings.database_url)
    db = Database(settings.database_url)
    try:
        channel = await connect_stdio()
        media = eagi_media(settings, channel) if channel.env.is_enhanced else None
        await make_call_handler(db, settings, media=media)(channel)
    finally:
        db.dispose()


def eagi_media(settings: Settings, channel: Any) -> Any:
    """Under EAGI the caller's audio is on fd 3: speech menus listen there, and prompts are
    written where this host's Asterisk (which started us) can play them."""
    from ivr.call.eagi_media import EagiSession
    from ivr.call.media import MediaPath
    from ivr.speech import models
    from ivr.telephony.agiscript import eagi_frames

    spool = (models.cache_dir(settings) / "eagi").resolve()
    session = EagiSession(channel, eagi_frames(), spool)
    return MediaPath.from_settings(None, "", settings, eagi=session)
