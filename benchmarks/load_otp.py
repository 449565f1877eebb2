"""OTP-by-keypad callers for benchmarks/load.py: customers of their own in the server's database,
and the two ways a one-time code reaches them, on loopback in the load generator's process: an
HTTP SMS gateway and an SMTP server (aiosmtpd, as the tests use). A caller reads its code from
here and keys it in.

Each OTP caller gets its own customer (a code issued to a customer supersedes the one before,
and codes per customer are limited per hour), known by its calling number, with no history (so
no repeat-contact offer), half of them taking codes by SMS and half by e-mail.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller

SECRET = "load-benchmark-otp-secret-0123456789"
CODE = re.compile(r"\b(\d{6})\b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def otp_phone(index: int) -> str:
    return f"+1646555{index:04d}"


class CodeInbox:
    """Where codes arrive, by the customer's phone number (e-mails are mapped back to it)."""

    def __init__(self) -> None:
        self.sms_port, self.smtp_port = free_port(), free_port()
        self.codes: dict[str, str] = {}
        self._by_email: dict[str, str] = {}
        self._smtp: Controller | None = None
        self._http: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    def env(self) -> dict[str, str]:
        """The server's settings that send codes here."""
        return {"IVR_OTP_SECRET": SECRET,
                "IVR_SMS_URL": f"http://127.0.0.1:{self.sms_port}/sms",
                "IVR_SMTP_HOST": "127.0.0.1", "IVR_SMTP_PORT": str(self.smtp_port),
                "IVR_SMTP_FROM": "ivr@load.test"}

    def add_customers(self, url: str, count: int) -> list[str]:
        """`count` customers for OTP callers in the server's database; their phone numbers."""
        from ivr.store.db import Database
        from ivr.store.repositories.customers import CustomerRepository

        db = Database(url)
        phones = []
        try:
            customers = CustomerRepository(db)
            for index in range(count):
                phone, email = otp_phone(index), f"load-otp-{index}@load.test"
                channel = "sms" if index % 2 else "email"
                if not customers.find_by_phone(phone):
                    customers.add(f"Load Caller {index}", [phone], language="en",
                                  preferred_channel=channel, email=email,
                                  time_zone="America/New_York")
                self._by_email[email] = phone
                phones.append(phone)
        finally:
            db.dispose()
        return phones

    async def start(self) -> None:
        self._http = await asyncio.start_server(self._sms, "127.0.0.1", self.sms_port)
        self._smtp = Controller(self, hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    async def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
        if self._http is not None:
            self._http.close()
            for writer in list(self._clients):  # their reads end: no task left to cancel
                writer.close()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await self._http.wait_closed()

    async def code_for(self, phone: str, within: float) -> str | None:
        """The code sent to `phone`, once it arrives (taken: a resend brings a new one)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            if phone in self.codes:
                return self.codes.pop(phone)
            await asyncio.sleep(0.05)
        return None

    # --- the SMS gateway: HTTP/1.1 POSTs of {"to", "text"}, kept alive ---------------------

    async def _sms(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])  # type: ignore[index]
                body: dict[str, Any] = json.loads(await reader.readexactly(length))
                self._found(str(body["to"]), str(body["text"]))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()
            if task is not None:
                self._handlers.discard(task)

    # --- the SMTP server (aiosmtpd calls this from its own thread) ---------------------------

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        body = message.get_payload(decode=True)
        for to in envelope.rcpt_tos:
            if to in self._by_email and isinstance(body, bytes):
                self._found(self._by_email[to], body.decode(errors="replace"))
        return "250 OK"

    def _found(self, phone: str, text: str) -> None:
        found = CODE.search(text)
        if found is not None:
            self.codes[phone] = found.group(1)  # (a dict write: safe from the SMTP thread)
