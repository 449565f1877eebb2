"""Build the caller lookup from settings: the HTTP CRM when IVR_CRM_URL is set, else the store."""

from __future__ import annotations

from ivr import metrics
from ivr.config import Settings
from ivr.customers.crm import CallerLookup, CrmAdapter, LookupResult, SqlCrm
from ivr.customers.crm_mapping import parse_fields
from ivr.customers.http_crm import HttpCrm, parse_header
from ivr.customers.resilience import TtlCache
from ivr.store.db import Database


def crm_from_settings(db: Database, settings: Settings) -> CrmAdapter:
    if not settings.crm_url:
        return SqlCrm(db)
    return HttpCrm(
        settings.crm_url,
        headers=parse_header(settings.crm_auth_header),
        fields=parse_fields(settings.crm_fields),
    )


class TimedLookup(CallerLookup):
    """A caller lookup whose time is observed (ivr_crm_lookup_seconds)."""

    async def lookup(self, caller_id: str | None) -> LookupResult:
        with metrics.CRM_SECONDS.time():
            return await super().lookup(caller_id)


def lookup_from_settings(db: Database, settings: Settings) -> CallerLookup:
    return TimedLookup(
        crm_from_settings(db, settings),
        region=settings.default_region,
        budget_ms=settings.crm_budget_ms,
        cache=TtlCache(settings.crm_cache_seconds),
    )
