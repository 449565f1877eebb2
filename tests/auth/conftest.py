"""Real peers for OTP tests: an aiosmtpd SMTP server and an HTTP SMS gateway on loopback,
a hand-driven clock, and an OtpService wired to both."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ivr.auth.otp import OtpService
from ivr.auth.senders import HttpSmsSender, SmtpEmailSender, parse_header
from ivr.store.db import Database
from tests.customers.conftest import NOW, People, add_people
from tests.customers.http_stub import HttpStub, http_stub
from tests.processes import free_port

SECRET = "test-otp-secret-0123456789"
CODE = re.compile(r"\b(\d{6})\b")


@dataclass
class Inbox:
    """What the SMTP server accepted, in order."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def last_code(self) -> str:
        body = self.messages[-1][1].get_payload(decode=True)
        assert isinstance(body, bytes)
        return code_in(body.decode())


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found is not None, text
    return found.group(1)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
async def gateway() -> AsyncIterator[HttpStub]:
    async with http_stub() as stub:
        yield stub


def sms_code(gateway: HttpStub) -> str:
    body: dict[str, Any] = gateway.received[-1].json()
    return code_in(str(body["message"]["body"]))


@dataclass
class Rig:
    otp: OtpService
    people: People
    clock: Clock
    inbox: Inbox
    gateway: HttpStub
    db: Database


@pytest.fixture
async def rig(
    db: Database, inbox: tuple[Inbox, int], gateway: HttpStub
) -> AsyncIterator[Rig]:
    clock = Clock()
    sms = HttpSmsSender(
        gateway.url + "/send",
        headers=parse_header("Authorization: Bearer sms-token"),
        body={"message": {"to": "{to}", "body": "{text}"}, "from": "IVR"},
    )
    email = SmtpEmailSender("127.0.0.1", inbox[1], "ivr@example.test")
    otp = OtpService(db, SECRET, {"sms": sms, "email": email}, clock=clock)
    yield Rig(otp, add_people(db), clock, inbox[0], gateway, db)
    await sms.aclose()
