"""One AMI client connection to the emulator: banner, login state, event switch, actions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from ivr.telephony.ami_codec import AmiParser, Header, Message, encode_banner
from ivr.telephony.emulator.ami_actions import HANDLERS
from ivr.telephony.emulator.manager_users import ManagerUser
from ivr.telephony.errors import AmiProtocolError

if TYPE_CHECKING:
    from ivr.telephony.emulator.ami import AmiEmulator


def _tv(t: float) -> str:
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}+0000"


class AmiSession:
    def __init__(
        self, emulator: AmiEmulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.emulator, self.reader, self.writer = emulator, reader, writer
        self.authenticated = False
        self.events_on = True
        self.username = ""
        self.user: ManagerUser | None = None
        self.session_id = f"0x{id(self):x}"
        self.started = time.time()
        self._closing = False

    # -- output ---------------------------------------------------------------------------
    def send(self, msg: Message) -> None:
        if not self._closing:
            self.writer.write(msg.encode())

    def event(self, msg: Message) -> None:
        """An event from the queue: only to a user who reads every class it carries."""
        if self.authenticated and self.events_on and self.user is not None \
                and self.user.may_read(msg.get("Privilege", "") or ""):
            self.send(msg)

    def respond(self, action: Message, response: str, headers: list[Header]) -> None:
        aid: list[Header] = [("ActionID", action.action_id)] if action.action_id is not None else []
        self.send(Message((("Response", response), *aid, *headers)))

    def close(self) -> None:
        self._closing = True
        self.writer.close()

    def _addresses(self) -> list[Header]:
        local = self.writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        peer = self.writer.get_extra_info("peername") or ("127.0.0.1", 0)
        return [("LocalAddress", f"IPV4/TCP/{local[0]}/{local[1]}"),
                ("RemoteAddress", f"IPV4/TCP/{peer[0]}/{peer[1]}")]

    def _security(self, name: str, severity: str, body: list[Header]) -> Message:
        return Message((("Event", name), ("Privilege", "security,all"),
                        ("EventTV", _tv(time.time())), ("Severity", severity),
                        ("Service", "AMI"), ("EventVersion", "1"), *body))

    # -- input ----------------------------------------------------------------------------
    async def run(self) -> None:
        parser = AmiParser(expect_banner=False)
        self.writer.write(encode_banner())
        try:
            while not self._closing:
                data = await self.reader.read(65536)
                if not data:
                    break
                for msg in parser.feed(data):
                    if isinstance(msg, Message):
                        await self.handle(msg)
                    if self._closing:
                        break
                with contextlib.suppress(ConnectionError):
                    await self.writer.drain()
        except (ConnectionError, AmiProtocolError):
            pass
        finally:
            self._closing = True
            self.writer.close()

    async def handle(self, msg: Message) -> None:
        self.emulator.log_action(msg)
        name = (msg.get("Action", "") or "").strip()
        if name.lower() == "login":
            await self._login(msg)
            return
        if not self.authenticated:
            self.respond(msg, "Error", [("Message", "Permission denied")])
            return
        handler = HANDLERS.get(name.lower())
        if handler is None:
            self._unknown(msg, name)
            return
        if self.user is not None and not self.user.may_run(name):
            self._not_allowed(msg, name)
            return
        await handler(self, msg)

    def _not_allowed(self, msg: Message, name: str) -> None:
        """process_message() when the user's write classes do not cover the action."""
        self.respond(msg, "Error", [("Message", "Permission denied")])
        self.emulator.emit(self._security("RequestNotAllowed", "Error", [
            ("AccountID", self.username), ("SessionID", self.session_id), *self._addresses(),
            ("RequestType", f"Action: {name}"), ("SessionTV", _tv(self.started))]))

    def _unknown(self, msg: Message, name: str) -> None:
        text = (f"Invalid/unknown command: {name}. "
                "Use Action: ListCommands to show available commands.")
        self.respond(msg, "Error", [("Message", text)])
        self.event(self._security("RequestBadFormat", "Error", [
            ("SessionID", self.session_id), *self._addresses(),
            ("RequestType", f"Action: {name}"), ("SessionTV", _tv(self.started)),
            ("AccountID", self.username)]))

    async def _login(self, msg: Message) -> None:
        if self.authenticated:
            self.respond(msg, "Success", [("Message", "Already authenticated")])
            return
        user, secret = msg.get("Username", "") or "", msg.get("Secret", "") or ""
        peer = self.writer.get_extra_info("peername") or ("127.0.0.1", 0)
        found = self.emulator.check_login(user, secret, peer[0])
        if found is None:
            # Asterisk delays a failed login on purpose, then drops the connection.
            await asyncio.sleep(self.emulator.login_fail_delay)
            self.respond(msg, "Error", [("Message", "Authentication failed")])
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()
            self.close()
            return
        self.authenticated, self.username, self.user = True, user, found
        self.events_on = (msg.get("Events", "") or "").lower() != "off"
        self.respond(msg, "Success", [("Message", "Authentication accepted")])
        uptime = str(int(time.time() - self.emulator.started_at))
        self.event(Message((("Event", "FullyBooted"), ("Privilege", "system,all"),
                            ("Uptime", uptime), ("LastReload", uptime),
                            ("Status", "Fully Booted"))))
        self.event(self._security("SuccessfulAuth", "Informational", [
            ("AccountID", user), ("SessionID", self.session_id), *self._addresses(),
            ("UsingPassword", "0"), ("SessionTV", _tv(self.started))]))
