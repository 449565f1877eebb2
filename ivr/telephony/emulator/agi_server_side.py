"""Asterisk's side of a FastAGI connection: send the environment, answer commands.

Wire behaviour reproduced from the traces:
* commands are read the way Asterisk's stdio does it, so pipelined commands stall: after one
  read, the first line is answered and the rest wait in the "stdio buffer" until more bytes
  arrive on the socket; then the owed commands and the new one are answered in a burst;
* on a caller hangup the running command returns its -1 form and `HANGUP\\n` follows ~40 ms
  later; with no command running `HANGUP\\n` is sent at once; an app-initiated HANGUP gets
  `200 result=1` and the notice at once; the app's (half-)close gets a last `HANGUP\\n`, then
  Asterisk closes; AGISIGHUP=no sends no HANGUP at all; AGIEXITONHANGUP=yes sends the result,
  two HANGUPs and closes;
* 510 for unknown commands (and empty lines, and `NOOP\\r`), 511 on a dead channel for the
  commands Asterisk refuses there, 520 + usage text (sent ~40 ms after the first line).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from ivr.telephony.agi import (
    DEAD_511,
    HANGUP_LINE,
    INVALID_510,
    format_usage,
    parse_command_line,
)
from ivr.telephony.emulator.agi_call import CallProfile, EmulatedCall
from ivr.telephony.emulator.agi_cmdbase import Command, ShowUsage
from ivr.telephony.emulator.agi_commands import BASIC_COMMANDS
from ivr.telephony.emulator.agi_events import (
    CommandReceived,
    PipelineStall,
    ReplySent,
    SessionClosed,
)
from ivr.telephony.emulator.agi_media import MEDIA_COMMANDS
from ivr.telephony.emulator.agi_usage import USAGE

COMMANDS: dict[tuple[str, ...], Command] = {**BASIC_COMMANDS, **MEDIA_COMMANDS}
_READ_SIZE = 65536


def find_command(words: list[str]) -> tuple[str, Command] | None:
    """Longest match of the leading words, case-insensitive (as Asterisk's find_command)."""
    for n in (3, 2, 1):
        key = tuple(w.upper() for w in words[:n])
        if len(key) == n and key in COMMANDS:
            return " ".join(key), COMMANDS[key]
    return None


def environment_pairs(
    profile: CallProfile,
    *,
    script: str | None,
    request: str,
    args: Sequence[str] = (),
    enhanced: bool = False,
) -> list[tuple[str, str]]:
    """The `agi_*` block in Asterisk's order. `script` (path + query, FastAGI only) adds the
    `agi_network*` lines; an empty caller ID shows as `unknown`."""
    head = [("network", "yes"), ("network_script", script)] if script is not None else []
    p = profile
    body = [
        ("request", request), ("channel", p.channel), ("language", p.language),
        ("type", p.type), ("uniqueid", p.uniqueid), ("version", p.version),
        ("callerid", p.callerid or "unknown"), ("calleridname", p.calleridname or "unknown"),
        # No caller ID at all is presentation 67, "number not available" (agi-notify-after-
        # amd.txt: an Originate without CallerID), as ast_party_id_presentation() says.
        ("callingpres", "0" if p.callerid or p.calleridname else "67"),
        ("callingani2", "0"), ("callington", "0"), ("callingtns", "0"),
        ("dnid", p.dnid or "unknown"), ("rdnis", p.rdnis or "unknown"),
        ("context", p.context), ("extension", p.extension), ("priority", p.priority),
        ("enhanced", "1.0" if enhanced else "0.0"), ("accountcode", p.accountcode),
        ("threadid", p.threadid),
    ]  # fmt: skip
    argv = [(f"arg_{i}", a) for i, a in enumerate(args, 1)]
    return [*head, *body, *argv]


class AgiSession:
    """Serves one AGI conversation over a (reader, writer) pair for an EmulatedCall."""

    def __init__(
        self, call: EmulatedCall, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.call = call
        self._reader = reader
        self._writer = writer
        self._busy = False
        self._notified = False
        self._closed = False
        self._notice: asyncio.Task[None] | None = None

    async def run(self, environment: bytes) -> None:
        watcher = asyncio.create_task(self._watch_hangup())
        try:
            # Asterisk's block arrived in two writes; keep that (clients must not care)
            cut = environment.find(b"agi_extension:")
            await self._send(environment[:cut] if cut > 0 else environment)
            if cut > 0:
                await self._send(environment[cut:])
            await self._command_loop()
            if self._notice is not None:
                await self._notice
            if self.call.options.agi_sighup and not self._closed:
                await self._send(HANGUP_LINE)
        finally:
            watcher.cancel()
            if self._notice is not None:
                self._notice.cancel()
            await self._close()
            self.call.events.add(SessionClosed(self.call.clock.now()))

    async def _command_loop(self) -> None:
        kernel, stdio = bytearray(), bytearray()
        eof = False
        while not self._closed:
            if not kernel and not eof:  # poll(): wait until the socket is readable
                data = await self._reader.read(_READ_SIZE)
                eof = not data
                kernel += data
            while b"\n" not in stdio and (kernel or not eof):  # fgets()
                if not kernel:
                    data = await self._reader.read(_READ_SIZE)
                    eof = not data
                    kernel += data
                stdio += kernel
                kernel.clear()
            nl = stdio.find(b"\n")
            if nl < 0:
                return  # EOF (a partial last line is dropped)
            line = bytes(stdio[:nl])
            del stdio[: nl + 1]
            owed = stdio.count(b"\n")
            if owed and not kernel and not eof:
                self.call.events.add(PipelineStall(self.call.clock.now(), owed))
            await self._execute(line)

    async def _execute(self, line: bytes) -> None:
        if self._notice is not None:
            await self._notice  # the HANGUP notice always precedes the next reply
        call = self.call
        call.events.add(CommandReceived(call.clock.now(), line))
        found = find_command(parse_command_line(line))
        if found is None:
            await self._send(INVALID_510)
            return
        name, command = found
        if call.dead.is_set() and not command.dead_ok:
            await self._send(DEAD_511)
            return
        was_dead = call.dead.is_set()
        self._busy = True
        try:
            reply = await command.handler(call, parse_command_line(line))
        except ShowUsage:
            head, tail = format_usage(USAGE.get(name, name + "\n"))
            await self._send(head)
            await call.clock.sleep(call.options.usage_delay_ms)
            await self._send(tail)
            return
        finally:
            self._busy = False
        if was_dead or not call.dead.is_set() or self._notified:
            await self._send(reply)
        else:
            await self._reply_then_notice(reply)

    async def _reply_then_notice(self, reply: bytes) -> None:
        """The channel died while the command ran: result first, then the HANGUP notice."""
        self._notified = True
        opts = self.call.options
        if not opts.agi_sighup:
            await self._send(reply)
        elif opts.exit_on_hangup:
            await self._send(reply + HANGUP_LINE + HANGUP_LINE)
            await self._close()
        elif self.call.hangup_by == "app":
            await self._send(reply)
            await self._send(HANGUP_LINE)
        else:
            await self._send(reply)
            self._notice = asyncio.create_task(self._late_notice())

    async def _late_notice(self) -> None:
        await self.call.clock.sleep(self.call.options.hangup_notice_ms)
        await self._send(HANGUP_LINE)

    async def _watch_hangup(self) -> None:
        await self.call.dead.wait()
        if self._busy or self._notified:
            return  # the running command reports it
        self._notified = True
        opts = self.call.options
        if opts.exit_on_hangup and opts.agi_sighup:
            await self._send(HANGUP_LINE + HANGUP_LINE)
            await self._close()
        elif opts.agi_sighup:
            await self._send(HANGUP_LINE)

    async def _send(self, data: bytes) -> None:
        if self._closed:
            return
        self.call.events.add(ReplySent(self.call.clock.now(), data))
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError):
            self._closed = True

    async def _close(self) -> None:
        if self._closed and self._writer.is_closing():
            return
        self._closed = True
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
