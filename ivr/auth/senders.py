"""Deliver a code: SMS through an HTTP gateway (JSON POST) or e-mail through SMTP."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from ivr.auth.errors import DeliveryError, SenderConfigError

DEFAULT_SMS_BODY: Mapping[str, Any] = {"to": "{to}", "text": "{text}"}


class CodeSender(Protocol):
    async def send(self, destination: str, subject: str, text: str) -> None:
        """Deliver or raise DeliveryError."""
        ...


def parse_header(spec: str | None) -> dict[str, str]:
    """``"Authorization: Bearer abc"`` -> {"Authorization": "Bearer abc"} (None -> {})."""
    if not spec:
        return {}
    name, sep, value = spec.partition(":")
    if not sep or not name.strip() or any(c in spec for c in "\r\n"):
        raise SenderConfigError("bad header setting: expected 'Name: value' on one line")
    return {name.strip(): value.strip()}


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    # Placeholders are replaced only inside string values, so the text can never alter the
    # JSON's structure whatever characters it holds.
    if isinstance(template, str):
        for key, value in values.items():
            template = template.replace("{" + key + "}", value)
        return template
    if isinstance(template, Mapping):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


class HttpSmsSender:
    """POSTs ``body`` (placeholders {to} and {text}) as JSON; any 2xx means accepted."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] = DEFAULT_SMS_BODY,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = url
        self._body = body
        self._client = client or httpx.AsyncClient(headers=dict(headers or {}), timeout=timeout)

    async def send(self, destination: str, subject: str, text: str) -> None:
        payload = _fill(self._body, {"to": destination, "text": text})
        try:
            response = await self._client.post(self._url, json=payload)
        except httpx.HTTPError as err:
            raise DeliveryError(f"SMS gateway unreachable: {type(err).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"SMS gateway answered HTTP {response.status_code}")

    async def aclose(self) -> None:
        await self._client.aclose()


class SmtpEmailSender:
    """Plain smtplib in a worker thread, so the event loop never blocks on the SMTP dialogue."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        timeout: float = 10.0,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._timeout = timeout
        self._starttls = starttls
        self._login = (username, password) if username and password else None

    async def send(self, destination: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = destination
        message["Subject"] = subject
        message.set_content(text)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._login is not None:
                    smtp.login(*self._login)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as err:
            raise DeliveryError(f"SMTP delivery failed: {type(err).__name__}: {err}") from None
