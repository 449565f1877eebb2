"""Emulated AGI commands that do not play or record media: channel, variables, database, EXEC.

Each handler gets the call and the full argv (command words included, as Asterisk counts
argc) and returns the reply bytes, or raises ShowUsage for a 520.
"""

from __future__ import annotations

from ivr.telephony.agi import format_result
from ivr.telephony.emulator.agi_call import EmulatedCall
from ivr.telephony.emulator.agi_cmdbase import Command, Handler
from ivr.telephony.emulator.agi_cmdbase import check_argc as _argc
from ivr.telephony.emulator.agi_events import Answered, AppExecuted
from ivr.telephony.emulator.agi_media import playback_app


async def answer(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 1, 1)
    if not call.up:
        await call.wait(None, call.options.answer_delay_ms)
        if call.dead.is_set():
            return format_result(-1)
        call.up = True
        call.events.add(Answered(call.clock.now()))
    return format_result(0)


async def channel_status(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 2, 3)
    if len(argv) == 3 and argv[2] != call.profile.channel:
        return format_result(-1)
    return format_result(6 if call.up else 4)


async def get_variable(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 3, 3)
    value = call.get_variable(argv[2])
    return format_result(0) if value is None else format_result(1, data=value)


async def get_full_variable(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 4, 5)
    return format_result(1, data=call.substitute(argv[3]))


async def set_variable(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 4, 4)
    call.set_variable(argv[2], argv[3])
    return format_result(1)


async def set_callerid(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 3, 3)
    call.set_callerid(argv[2])
    return format_result(1)


async def verbose(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 2, 4)
    return format_result(1)


async def noop(call: EmulatedCall, argv: list[str]) -> bytes:
    return format_result(0)


def _returns_zero(low: int, high: int) -> Handler:
    async def handler(call: EmulatedCall, argv: list[str]) -> bytes:
        _argc(argv, low, high)
        return format_result(0)

    return handler


async def set_extension(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 3, 3)
    call.profile.extension = argv[2]
    return format_result(0)


async def set_context(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 3, 3)
    call.profile.context = argv[2]
    return format_result(0)


async def set_priority(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 3, 3)
    call.profile.priority = argv[2]
    return format_result(0)


async def hangup(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 1, 2)
    if len(argv) == 2 and argv[1] != call.profile.channel:
        return format_result(-1)
    call.hangup("app")
    return format_result(1)


async def database_put(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 5, 5)
    call.database[(argv[2], argv[3])] = argv[4]
    return format_result(1)


async def database_get(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 4, 4)
    value = call.database.get((argv[2], argv[3]))
    return format_result(0) if value is None else format_result(1, data=value)


async def database_del(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 4, 4)
    call.database.pop((argv[2], argv[3]), None)
    return format_result(1)  # 1 even when the key did not exist (22.10.1)


async def database_deltree(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 3, 4)
    prefix = argv[3] if len(argv) == 4 else ""
    doomed = [k for k in call.database if k[0] == argv[2] and k[1].startswith(prefix)]
    for key in doomed:
        del call.database[key]
    return format_result(0 if doomed else 1)  # inverted, as the 22.10.1 source does


async def execute(call: EmulatedCall, argv: list[str]) -> bytes:
    _argc(argv, 2, 1000)
    app, data = argv[1], (argv[2] if len(argv) > 2 else "")
    result = await run_app(call, app, data)
    call.events.add(AppExecuted(call.clock.now(), app, data, result))
    return format_result(result)


async def run_app(call: EmulatedCall, app: str, data: str) -> int:
    """Run a dialplan application; -2 when it does not exist (like Asterisk)."""
    name = app.lower()
    if name in call.app_hooks:
        return await call.app_hooks[name](call, data)
    if name == "wait":
        return await _wait_app(call, data)
    if name == "playback":
        return await playback_app(call, data)
    if name == "set":
        var, _, value = data.partition("=")
        call.set_variable(var, value)
        return 0
    if name == "senddtmf":
        digits = data.partition(",")[0]
        opts = call.options
        await call.wait(None, opts.dtmf_first_ms + opts.dtmf_gap_ms * (len(digits) - 1)
                        + opts.dtmf_tail_ms)  # fmt: skip
        return -1 if call.dead.is_set() else 0
    if name == "answer":
        return 0 if (await answer(call, ["ANSWER"])).startswith(b"200 result=0") else -1
    if name == "hangup":
        call.hangup("app")
        return -1
    if name in _PASSIVE_APPS:
        return 0
    return -2


# Apps the emulator accepts without simulating them (a hook in call.app_hooks can take over).
_PASSIVE_APPS = {
    "verbose", "noop", "log", "dial", "transfer", "blindtransfer", "audiosocket", "queue",
    "goto", "gotoif", "musiconhold", "startmusiconhold", "stopmusiconhold", "progress",
    "ringing", "echo", "mixmonitor", "stopmixmonitor", "userevent", "amd",
}  # fmt: skip


async def _wait_app(call: EmulatedCall, data: str) -> int:
    try:
        seconds = float(data or 0)
    except ValueError:
        seconds = 0.0
    if call.dead.is_set():
        # the traces show Wait() still waiting its full time on a dead channel
        await call.clock.sleep(seconds * 1000)
        return 0
    interrupted = await call.wait(None, seconds * 1000) == "hangup"
    return -1 if interrupted else 0


BASIC_COMMANDS: dict[tuple[str, ...], Command] = {
    ("ANSWER",): Command(answer),
    ("CHANNEL", "STATUS"): Command(channel_status),
    ("GET", "VARIABLE"): Command(get_variable, dead_ok=True),
    ("GET", "FULL", "VARIABLE"): Command(get_full_variable, dead_ok=True),
    ("SET", "VARIABLE"): Command(set_variable, dead_ok=True),
    ("SET", "CALLERID"): Command(set_callerid),
    ("VERBOSE",): Command(verbose, dead_ok=True),
    ("NOOP",): Command(noop, dead_ok=True),
    ("SET", "MUSIC"): Command(_returns_zero(3, 4)),
    ("SET", "AUTOHANGUP"): Command(_returns_zero(3, 3)),
    ("SET", "EXTENSION"): Command(set_extension),
    ("SET", "CONTEXT"): Command(set_context),
    ("SET", "PRIORITY"): Command(set_priority),
    ("HANGUP",): Command(hangup),
    ("DATABASE", "PUT"): Command(database_put, dead_ok=True),
    ("DATABASE", "GET"): Command(database_get, dead_ok=True),
    ("DATABASE", "DEL"): Command(database_del, dead_ok=True),
    ("DATABASE", "DELTREE"): Command(database_deltree, dead_ok=True),
    ("EXEC",): Command(execute, dead_ok=True),
}
