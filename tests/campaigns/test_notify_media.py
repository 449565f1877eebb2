"""A notification call with the AudioSocket media path, answered on an emulated Asterisk host
that has no sound files: the message, the confirmation question and the goodbye all reach the
person over AudioSocket, and the key they press is recorded (issue 15, defect 1)."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.call.media import MediaPath
from ivr.campaigns.dialer import Dialer, DialerConfig
from ivr.campaigns.notify_flow import NotifyFlow
from ivr.speech.tts import Tts
from ivr.store.db import Database
from ivr.store.models import now_utc
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.telephony.agi import parse_command_line
from ivr.telephony.ami import AmiClient
from ivr.telephony.audiosocket_server import AudioSocketServer
from ivr.telephony.emulator import agi_audiosocket
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_caller import PressWhenAsked
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.agi_events import CommandReceived
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall
from ivr.telephony.fastagi import FastAgiServer
from tests.campaigns.helpers import contacts, make_campaign, phone, until

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
CONFIRM_TIMEOUT = 5.0  # the person answers once the question has been asked (real time)


@dataclass
class MediaPbx:
    ami: AmiEmulator
    db: Database
    answered: list[AgiEmulator] = field(default_factory=list)

    def commands(self) -> list[list[str]]:
        return [parse_command_line(e.line.rstrip(b"\n"))
                for emu in self.answered for e in emu.events.of(CommandReceived)]


@pytest.fixture
async def media_pbx(db: Database, tmp_path: Path) -> AsyncIterator[MediaPbx]:
    async with AudioSocketServer("127.0.0.1", 0) as media_server:
        media = MediaPath(media_server, f"127.0.0.1:{media_server.port}", None,
                          Tts(tmp_path / "tts"), PROMPTS)
        flow = NotifyFlow(db, confirm_timeout=CONFIRM_TIMEOUT, media=media)
        async with FastAgiServer(flow.handle, "127.0.0.1", 0, shutdown_grace=1.0) as agi:
            ami = AmiEmulator(agi_url=f"agi://127.0.0.1:{agi.port}", ivr_context="ivr-notify",
                              time_scale=0.05)
            await ami.start()
            box = MediaPbx(ami, db)

            async def answered(call: AnsweredCall) -> None:
                profile = CallProfile(channel=call.channel, uniqueid=call.uniqueid,
                                      variables=dict(call.variables), context="ivr-notify",
                                      extension="notify")
                emu = AgiEmulator(call.agi_url, profile=profile, caller=[PressWhenAsked("1")],
                                  prompts=lambda _name: None)  # no sound files on this host
                box.answered.append(emu)
                await emu.run()

            ami.on_answer = answered
            try:
                yield box
            finally:
                await ami.stop()


async def test_notification_asks_for_confirmation_over_audiosocket_and_records_the_key(
    media_pbx: MediaPbx,
) -> None:
    campaign = make_campaign(media_pbx.db, contacts=contacts(1), max_attempts=1, now=now_utc())
    client = AmiClient("127.0.0.1", media_pbx.ami.port, "ivr", "ivrsecret", ping_interval=5.0)
    await client.connect()
    dialer = Dialer(media_pbx.db, client, DialerConfig(owner="d1", originate_timeout_ms=300,
                                                       poll_s=0.05, lease_s=30.0))
    await dialer.start()
    repo = CampaignRepository(media_pbx.db)
    try:
        await until(lambda: repo.progress(campaign.id)["pending"] + repo.progress(
            campaign.id)["dialing"] == 0, timeout=40)
    finally:
        await dialer.stop()
        await client.close()
    [contact] = repo.contacts(campaign.id)
    assert (contact.phone, contact.state, contact.result) == (phone(1), "done", "confirmed")
    commands = media_pbx.commands()
    host = [w for w in commands if w[0].upper() in ("STREAM", "GET", "CONTROL")
            and w[1].upper() in ("FILE", "OPTION", "DATA", "STREAM")]
    assert host == []
    played = [w[1] for w in commands if w[0].upper() == "VERBOSE"]
    assert played[-2:] == ["ivr plays: ivr/notify-confirm", "ivr plays: ivr/goodbye"]
    [emu] = media_pbx.answered
    goodbye = agi_audiosocket.caller_media(emu.call).connections[-1]
    with wave.open(str(PROMPTS / "en" / "goodbye.wav"), "rb") as wav:
        assert goodbye.heard_seconds >= wav.getnframes() / wav.getframerate() - 0.05
