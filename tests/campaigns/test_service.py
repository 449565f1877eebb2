"""`ivr serve` wiring: FastAGI script `notify` reaches the notification flow, anything else the
inbound handler; dialer settings come from Settings."""

from __future__ import annotations

import asyncio

from ivr.call.session import AgiLink
from ivr.campaigns.service import dialer_config, with_notify
from ivr.config import Settings
from ivr.store.db import Database
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived
from ivr.telephony.fastagi import FastAgiServer


async def test_notify_script_goes_to_the_notification_flow_others_inbound(db: Database) -> None:
    inbound: list[str] = []

    async def answer_inbound(link: AgiLink) -> None:
        inbound.append(link.env.script)

    server = FastAgiServer(with_notify(db, answer_inbound), "127.0.0.1", 0)
    async with server:
        await asyncio.wait_for(AgiEmulator(f"agi://127.0.0.1:{server.port}/main").run(), 10)
        events = await asyncio.wait_for(
            AgiEmulator(f"agi://127.0.0.1:{server.port}/notify").run(), 10)
    assert inbound == ["main"]
    # No attempt has this channel: the notification flow hangs up instead of guessing.
    commands = [e.line.split(b" ")[0] for e in events.events if isinstance(e, CommandReceived)]
    assert commands == [b"GET", b"HANGUP"]


def test_dialer_config_from_settings() -> None:
    settings = Settings(_env_file=None, dialer_name="east-1", dialer_trunk="PJSIP/{number}@trunk",
                        dialer_max_channels=7, dialer_calls_per_second=2.5)
    config = dialer_config(settings)
    assert (config.owner, config.dial_string, config.max_channels, config.calls_per_second) == (
        "east-1", "PJSIP/{number}@trunk", 7, 2.5)
    assert config.context == "ivr-notify"
