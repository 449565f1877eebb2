"""Place an emulated call to a FastAGI server, the way Asterisk's `AGI(agi://...)` does.

emu = AgiEmulator("agi://127.0.0.1:4573/ivr?lang=en", args=["18005550100"],
                  caller=[At(1500), Press("12#"), Pause(2000), Hangup()])
await emu.run()            # returns when the session is over
for event in emu.events.events: ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import urlsplit

from ivr.telephony.agi import format_environment
from ivr.telephony.emulator.agi_call import (
    CallOptions,
    CallProfile,
    EmulatedCall,
    PromptLookup,
    trace_prompts,
)
from ivr.telephony.emulator.agi_caller import Step, run_caller
from ivr.telephony.emulator.agi_events import Clock, EventLog
from ivr.telephony.emulator.agi_server_side import AgiSession, environment_pairs

DEFAULT_PORT = 4573


def split_agi_url(url: str) -> tuple[str, int, str]:
    """`agi://host[:port]/script?query` -> (host, port, "script?query")."""
    parts = urlsplit(url)
    if parts.scheme != "agi" or not parts.hostname:
        raise ValueError(f"not a FastAGI URL: {url!r}")
    script = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or DEFAULT_PORT, script


class AgiEmulator:
    """One emulated call: connects, sends the environment, answers commands, runs the
    scripted caller alongside, records every event in `events`."""

    def __init__(
        self,
        url: str,
        *,
        profile: CallProfile | None = None,
        args: Sequence[str] = (),
        caller: Sequence[Step] = (),
        clock: Clock | None = None,
        prompts: PromptLookup = trace_prompts,
        options: CallOptions | None = None,
        database: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self.url = url
        self.host, self.port, self.script = split_agi_url(url)
        self.args = list(args)
        self.caller = list(caller)
        self.events = EventLog()
        self.call = EmulatedCall(
            profile or CallProfile(),
            clock=clock or Clock(),
            prompts=prompts,
            options=options,
            database=database,
            events=self.events,
        )

    def environment(self) -> bytes:
        pairs = environment_pairs(
            self.call.profile, script=self.script, request=self.url, args=self.args
        )
        return format_environment(pairs)

    async def run(self) -> EventLog:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.call.clock.start()
        caller = asyncio.create_task(run_caller(self.call, self.caller))
        try:
            await AgiSession(self.call, reader, writer).run(self.environment())
        finally:
            caller.cancel()
            await asyncio.wait([caller])  # unlike suppress(), keeps our own cancellation
        return self.events

    def hangup(self) -> None:
        """The caller hangs up now (for interactive use; scripts use the Hangup step)."""
        self.call.hangup("caller")

    def press(self, digit: str) -> None:
        self.call.press(digit)
