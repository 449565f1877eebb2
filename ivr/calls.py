"""What answers an inbound call, shared by `ivr serve`, `ivr agi` and `ivr call --in-process`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ivr import metrics
from ivr.auth.factory import otp_from_settings
from ivr.call.media import MediaPath
from ivr.call.session import AgiLink
from ivr.config import Settings
from ivr.customers.context import LiveContexts
from ivr.customers.factory import lookup_from_settings
from ivr.flows import builtin
from ivr.flows.caller_services import CallerServices
from ivr.flows.catalog import FlowCatalog
from ivr.flows.files import ImportSummary, import_dialplans
from ivr.flows.runner import CallRunner
from ivr.flows.store_services import StoreServices
from ivr.logs import bind_call
from ivr.store.db import Database
from ivr.store.locks import IMPORT_FLOWS, exclusive

log = logging.getLogger(__name__)
CallHandler = Callable[[AgiLink], Awaitable[None]]


def make_services(
    db: Database, settings: Settings, *, live: LiveContexts | None = None
) -> CallerServices:
    """The flows' hooks: the CRM (IVR_CRM_URL, else the store) within IVR_CRM_BUDGET_MS, OTP
    when IVR_OTP_SECRET is set (senders: IVR_SMS_URL, IVR_SMTP_HOST), transfer contexts in
    `live` (share it with the admin app as `app.state.live_contexts`)."""
    return CallerServices(
        db, lookup_from_settings(db, settings), otp=otp_from_settings(db, settings),
        store=StoreServices(db, region=settings.default_region), live=live,
    )  # fmt: skip


def make_call_handler(
    db: Database, settings: Settings, *, live: LiveContexts | None = None,
    media: MediaPath | None = None, node: str | None = None,
) -> CallHandler:
    """`media`: the AudioSocket path for speech and spoken text; without it calls use keys
    and recorded prompts. `node`: this server's name (`ivr serve`), kept on its calls' rows."""
    catalog = FlowCatalog(db, default_flow=settings.default_flow)
    services = make_services(db, settings, live=live)
    fallback = (builtin.NAME, builtin.welcome)
    return CallRunner(db, catalog, services, fallback, media=media,
                      agent=settings.agent_fallback, node=node).handle


def logged_calls(handler: CallHandler) -> CallHandler:
    """Tag every log line a call produces with its id, channel and caller (IVR_LOG_FORMAT=json
    shows them as fields), and log where each call starts and ends."""

    async def handle(link: AgiLink) -> None:
        env = link.env
        bind_call(env.uniqueid or env.channel, env.channel, env.caller_number)
        log.info("call from %s to %s", env.caller_number or "a withheld number",
                 env.dialed_number or env.extension)
        metrics.ACTIVE_CALLS.inc()
        try:
            await handler(link)
        finally:
            metrics.ACTIVE_CALLS.dec()
            log.info("call ended")

    return handle


async def import_flows(db: Database, settings: Settings) -> None:
    """First run: the flows in IVR_DIALPLANS_DIR become published versions. Later runs store
    changed files as new validated versions but publish nothing (admins publish)."""
    folder = settings.dialplans_dir
    if not folder.is_dir():
        log.warning("no flows folder %s (IVR_DIALPLANS_DIR): calls get the built-in flow", folder)
        return

    def run() -> ImportSummary:
        # Nodes started together would each store the same new versions and routes (and one
        # of them die on the duplicate): one imports, the others then find nothing changed.
        with exclusive(db, IMPORT_FLOWS):
            return import_dialplans(db, folder, catalog=settings.prompts_dir / "catalog.yaml",
                                    publish="missing")

    summary = await asyncio.to_thread(run)
    for issue in summary.report.issues:
        log.error("flow not imported: %s", issue)
    published = ", ".join(f"{name} v{number}" for name, number in summary.published)
    log.info("flows: %d new versions, %d unchanged, published %s", len(summary.created),
             len(summary.unchanged), published or "none")
