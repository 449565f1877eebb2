"""The emulated PBX for dialer tests: AMI emulator over a socket, our FastAGI server running
the notify flow, and the AGI emulator playing the answered leg with a scripted person.

The emulated Asterisk loads the shipped `asterisk/*.conf` (only the README's edits applied:
IVR_HOST/IVR_AGI_PORT, the secret), and the dialer logs in as the shipped AMI user, so a
mismatch between those snippets and the dialer fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest

from ivr.campaigns.dialer import Dialer, DialerConfig
from ivr.campaigns.fallback import NoticeSenders
from ivr.campaigns.notify_flow import NotifyFlow
from ivr.store.db import Database
from ivr.telephony.ami import AmiClient
from ivr.telephony.ami_codec import Message
from ivr.telephony.emulator.agi_call import CallProfile
from ivr.telephony.emulator.agi_caller import Step
from ivr.telephony.emulator.agi_emulator import AgiEmulator
from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_script import AnsweredCall
from ivr.telephony.emulator.asterisk_config import AsteriskConfig
from ivr.telephony.fastagi import FastAgiServer

SECRET = "not-CHANGE-ME"


def shipped_asterisk(agi_url: str) -> tuple[AsteriskConfig, str]:
    """The shipped snippets as asterisk/README.md installs them; returns (config, AMI user)."""
    config = AsteriskConfig.load()
    config.install(agi_url)
    user = config.only_user().name
    config.set_secret(user, SECRET)
    return config, user


@dataclass
class Outbox:
    """A notice sender that keeps what it was asked to send."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    async def send(self, destination: str, subject: str, text: str) -> None:
        self.sent.append((destination, subject, text))


@dataclass
class Pbx:
    ami: AmiEmulator
    agi: FastAgiServer
    db: Database
    username: str
    people: dict[str, Sequence[Step]] = field(default_factory=dict)  # number -> caller steps
    sms: Outbox = field(default_factory=Outbox)
    email: Outbox = field(default_factory=Outbox)
    clients: list[AmiClient] = field(default_factory=list)

    async def client(self) -> AmiClient:
        client = AmiClient("127.0.0.1", self.ami.port, self.username, SECRET, backoff_initial=0.05,
                           backoff_max=0.2, ping_interval=5.0)
        self.clients.append(client)
        await client.connect()
        return client

    async def dialer(self, owner: str = "d1", **config: object) -> Dialer:
        options: dict[str, object] = {"owner": owner, "originate_timeout_ms": 300,
                                      "poll_s": 0.05, "lease_s": 30.0, **config}
        dialer = Dialer(self.db, await self.client(), DialerConfig(**options),  # type: ignore[arg-type]
                        notices=NoticeSenders(sms=self.sms, email=self.email))
        return dialer

    def placed(self) -> list[Message]:
        """The Originates that place a call (not the dialer's channel-less rights probe)."""
        return [m for m in self.ami.actions("Originate") if m.get("Channel")]

    def originates(self) -> list[str]:
        return [m.get("ChannelId") or "" for m in self.placed()]


@pytest.fixture
def confirm_timeout() -> float:
    """How long the notify flow waits for a key; a module overrides it for slow listeners."""
    return 0.3


@pytest.fixture
async def pbx(db: Database, confirm_timeout: float) -> AsyncIterator[Pbx]:
    flow = NotifyFlow(db, confirm_timeout=confirm_timeout)
    agi = FastAgiServer(flow.handle, "127.0.0.1", 0, shutdown_grace=1.0)
    await agi.start()
    config, user = shipped_asterisk(f"agi://127.0.0.1:{agi.port}")
    ami = AmiEmulator(config=config, time_scale=0.05)
    await ami.start()
    box = Pbx(ami, agi, db, user)

    async def answered(call: AnsweredCall) -> None:
        profile = CallProfile(channel=call.channel, uniqueid=call.uniqueid,
                              variables=dict(call.variables), context=call.context,
                              extension=call.exten)
        emu = AgiEmulator(call.agi_url, profile=profile, args=call.agi_args,
                          caller=box.people.get(call.number, ()),
                          prompts=lambda _name: 800)  # ivr's prompts copied to the host
        await emu.run()

    ami.on_answer = answered
    yield box
    for client in box.clients:
        await client.close()
    await ami.stop()
    await agi.stop()
