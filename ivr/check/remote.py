"""Checks of the services ivr talks to: AMI (login and the permissions the dialer needs, each
tried with an action that changes nothing), SMTP and the SMS gateway when they are set."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import unquote, urlsplit

from ivr.check.result import Line, fail, ok
from ivr.config import Settings
from ivr.telephony.ami import AmiClient
from ivr.telephony.errors import TelephonyError

AMI_PORT = 5038
TIMEOUT = 5.0
CONF = "asterisk/manager_ivr.conf"
# The dialer's actions per write class, each made harmless: an Originate to a context no
# dialplan has is refused ("Extension does not exist.") before any channel is created, and
# CoreShowChannels only lists. "Permission denied" is the one answer that means a missing class.
MISSING_CONTEXT = "ivr-check-does-not-exist"
PROBES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("originate", "Originate", (("Channel", f"Local/s@{MISSING_CONTEXT}"),
                                ("Context", MISSING_CONTEXT), ("Exten", "s"), ("Priority", "1"))),
    ("reporting", "CoreShowChannels", ()),
)


def ami(settings: Settings) -> list[Line]:
    if not settings.ami_url:
        return [ok("AMI", "IVR_AMI_URL is not set: outbound calls go to the built-in simulated "
                          "PBX (set it to reach your Asterisk)")]
    return asyncio.run(_ami(settings.ami_url))


async def _ami(ami_url: str) -> list[Line]:
    url = urlsplit(ami_url)
    user = unquote(url.username or "")
    where = f"{url.hostname}:{url.port or AMI_PORT}"
    client = AmiClient(url.hostname or "", url.port or AMI_PORT, user,
                       unquote(url.password or ""), events=False, reconnect=False,
                       connect_timeout=TIMEOUT, action_timeout=TIMEOUT)
    try:
        await client.connect()
    except TelephonyError as err:
        return [fail("AMI login", f"{err}; check IVR_AMI_URL against the user in {CONF}")]
    lines = [ok("AMI login", f"{user}@{where}")]
    try:
        for write_class, action, headers in PROBES:
            response = await client.send_action(action, headers, check=False)
            part = f"AMI {write_class}"
            if response.message.strip().lower() == "permission denied":
                lines.append(fail(part, f"{action} refused: add {write_class} to write= of "
                                        f"[{user}] (see {CONF}), then 'manager reload'"))
            else:
                lines.append(ok(part, f"{action} allowed"))
    except TelephonyError as err:
        lines.append(fail("AMI", f"{err}"))
    finally:
        await client.close()
    return lines


def _greeting(host: str, port: int) -> str:
    """The server's first line (an SMTP server greets with 220), then a polite QUIT."""
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        data = sock.recv(512).decode("latin-1")
        sock.sendall(b"QUIT\r\n")
    return data.splitlines()[0] if data else ""


def smtp(settings: Settings) -> list[Line]:
    if not settings.smtp_host:
        return []
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        greeting = _greeting(settings.smtp_host, settings.smtp_port)
    except OSError as err:
        return [fail("SMTP", f"cannot reach {where}: {err.strerror or err}; check "
                             "IVR_SMTP_HOST / IVR_SMTP_PORT and the firewall")]
    if not greeting.startswith("220"):
        return [fail("SMTP", f"{where} did not greet as an SMTP server ({greeting[:60]!r})")]
    return [ok("SMTP", f"{where} answers ({greeting[:60]})")]


def sms(settings: Settings) -> list[Line]:
    if not settings.sms_url:
        return []
    url = urlsplit(settings.sms_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    where = f"{url.hostname}:{port}"
    try:
        with socket.create_connection((url.hostname or "", port), timeout=TIMEOUT):
            pass
    except OSError as err:
        return [fail("SMS gateway", f"cannot reach {where}: {err.strerror or err}; check "
                                    "IVR_SMS_URL and the firewall")]
    return [ok("SMS gateway", f"{where} accepts connections")]
