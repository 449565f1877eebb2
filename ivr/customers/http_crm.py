"""A company's own CRM over HTTP: GET a URL template, read JSON through a field mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote

import httpx

from ivr.customers import crm_mapping
from ivr.customers.errors import CrmConfigError, CrmError
from ivr.store.domain import Customer


def parse_header(spec: str | None) -> dict[str, str]:
    """``"Authorization: Bearer abc"`` -> {"Authorization": "Bearer abc"} (None -> {})."""
    if not spec:
        return {}
    name, sep, value = spec.partition(":")
    if not sep or not name.strip() or any(c in spec for c in "\r\n"):
        raise CrmConfigError("bad header setting: expected 'Name: value' on one line")
    return {name.strip(): value.strip()}


class HttpCrm:
    """``url_template`` holds ``{phone}`` (E.164, URL-encoded) or ``{digits}`` (without '+').

    404 and an empty list mean "nobody"; other errors and unreadable bodies raise CrmError.
    The lookup's budget bounds the whole exchange; ``timeout`` is only a backstop.
    """

    def __init__(
        self,
        url_template: str,
        *,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
        timeout: float = 5.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if "{phone}" not in url_template and "{digits}" not in url_template:
            raise CrmConfigError(f"CRM URL {url_template!r} has no {{phone}} or {{digits}}")
        self._template = url_template
        self._fields = dict(fields or {})
        self._client = client or httpx.AsyncClient(headers=dict(headers or {}), timeout=timeout)

    def url_for(self, e164: str) -> str:
        return self._template.replace("{phone}", quote(e164, safe="")).replace(
            "{digits}", e164.lstrip("+")
        )

    async def find_by_phone(self, e164: str) -> list[Customer]:
        try:
            response = await self._client.get(self.url_for(e164))
        except httpx.HTTPError as err:
            raise CrmError(f"CRM unreachable: {type(err).__name__}: {err}") from None
        if response.status_code == 404:
            return []
        if response.status_code >= 300:
            raise CrmError(f"CRM answered HTTP {response.status_code}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CrmError("CRM answered something that is not JSON") from None
        found = crm_mapping.records(body, self._fields)
        return [crm_mapping.customer(r, self._fields) for r in found]

    async def aclose(self) -> None:
        await self._client.aclose()
