"""Wiring for `ivr serve`: the dialer built from settings, and the FastAGI dispatch for `notify`.

    ami = AmiClient(...)  (from IVR_AMI_URL) or one to the built-in AmiEmulator
    dialer = make_dialer(db, settings, ami); await dialer.start(); ... await dialer.stop()
    handler = with_notify(db, inbound_handler)   # FastAGI: script 'notify' -> NotifyFlow
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ivr.auth.factory import senders_from_settings
from ivr.call.media import MediaPath
from ivr.call.session import AgiLink
from ivr.campaigns.dialer import Dialer, DialerConfig
from ivr.campaigns.fallback import NoticeSenders
from ivr.campaigns.notify_flow import SCRIPT, NotifyFlow
from ivr.config import Settings
from ivr.nodes import node_name
from ivr.store.db import Database
from ivr.telephony.ami import AmiClient

Handler = Callable[[AgiLink], Awaitable[None]]


def dialer_config(settings: Settings) -> DialerConfig:
    # The node's name: two dialers must never share leases (host name plus pid by default).
    return DialerConfig(
        owner=node_name(settings), dial_string=settings.dialer_trunk,
        context=settings.dialer_context,
        caller_id=settings.dialer_caller_id, max_channels=settings.dialer_max_channels,
        calls_per_second=settings.dialer_calls_per_second)


def make_dialer(db: Database, settings: Settings, ami: AmiClient) -> Dialer:
    senders = senders_from_settings(settings)
    notices = NoticeSenders(sms=senders.get("sms"), email=senders.get("email"))
    return Dialer(db, ami, dialer_config(settings), notices=notices)


def with_notify(db: Database, inbound: Handler, media: MediaPath | None = None) -> Handler:
    """A FastAGI handler: calls for script `notify` (our outbound legs) run the notification,
    every other call goes to `inbound`."""
    flow = NotifyFlow(db, media=media)

    async def handle(link: AgiLink) -> None:
        if link.env.script.strip("/") == SCRIPT:
            await flow.handle(link)
        else:
            await inbound(link)

    return handle
