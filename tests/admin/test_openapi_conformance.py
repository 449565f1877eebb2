"""The admin API against its own OpenAPI document (issue 13, item 12).

schemathesis reads /openapi.json from the real app (on a real database, with an admin token)
and, for every operation, sends requests that fit the document and requests that break it; all
its checks run: no 5xx, every status and body documented, invalid input refused, valid input
accepted, auth not ignored. Bounded: a few examples per operation, no deadline (shared CPUs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    positive_data_acceptance,
)

from ivr.admin.app import create_app
from ivr.admin.routes.interactions import MAX_CONTACT
from ivr.config import Settings
from ivr.store.db import Database
from ivr.store.domain import CampaignSpec, NewAccount
from ivr.store.repositories.campaigns import CampaignRepository
from ivr.store.repositories.customers import CustomerRepository
from ivr.store.repositories.flows import FlowRepository
from ivr.store.repositories.tokens import TokenRepository

REPO = Path(__file__).parents[2]
TINY = "flow: tiny\nlanguage: en\nstart: bye\nnodes:\n  bye:\n    type: hangup\n"
EXAMPLES = 6  # fuzzed per operation (the coverage phase adds its boundary cases); ~30 operations

load_all_checks()
# `--checks all`: every registered check that judges one response (the class-based ones
# judge whole stateful runs, which this per-operation test does not make).
ALL_CHECKS = [c for c in CHECKS.get_all() if not isinstance(c, type)]


def _document_app() -> FastAPI:
    """An app only to read the OpenAPI document from (it never touches its database); each
    test sends its requests to an app on the test's own database."""
    return create_app(Settings(_env_file=None, prompts_dir=REPO / "prompts"),
                      Database("sqlite://"))


# A schema loaded at import: schemathesis' lazy `from_fixture` breaks on pytest 9 (it rewrites
# the private `Function._nodeid`), so the per-test app is passed to each call instead.
schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app())


@pytest.fixture
def api(db: Database) -> tuple[FastAPI, dict[str, str]]:
    """The app with something to find (a published flow, a customer, a campaign) and the
    headers of an admin."""
    secret = TokenRepository(db).create("schemathesis", "admin")[1]
    flows = FlowRepository(db)
    flows.create_version("tiny", TINY, "test", state="validated")
    flows.publish("tiny", 1)
    flows.set_route("18005550100", "tiny")
    CustomerRepository(db).add("Bob", ["+12125550111"],
                               accounts=[NewAccount("B-1", Decimal(0), Decimal(70))])
    CampaignRepository(db).create(CampaignSpec(name="spring"))
    app = create_app(Settings(_env_file=None, prompts_dir=REPO / "prompts"), db)
    return app, {"Authorization": f"Bearer {secret}"}


# What JSON Schema cannot state, and so the one check left out where it applies:
# - /api/flows/validate is also /api/flows/{name} for a flow named "validate", so that URL
#   truly answers GET as well as POST (its Allow header says both); the document lists the
#   two templates apart, so the Allow check cannot agree with either one alone there.
# - a CSV body is a plain string to JSON Schema, which cannot say "a header row with a phone
#   column"; any string fits the document, and a file without that column is a 422.
EXEMPT = {"/api/flows/validate": allow_header_conformance,
          "/api/campaigns/{name}/import": positive_data_acceptance}


# PostgreSQL only: it refuses more than SQLite does (NUL in text, values wider than a column),
# so what passes there passes on SQLite, and one database keeps the run within its budget.
@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_does_what_its_openapi_document_says(
    case: Any, api: tuple[FastAPI, dict[str, str]]
) -> None:
    app, headers = api
    checks = [c for c in ALL_CHECKS if c is not EXEMPT.get(case.path)]
    rule = broken_cross_field_rule(case)
    if rule is None:
        case.call_and_validate(headers=headers, checks=checks, app=app)
        return
    # A body that fits the document but breaks a rule between two fields: the one check
    # that cannot know the rule is left out, and the refusal is asserted here instead.
    response = case.call_and_validate(headers=headers, app=app, checks=[
        c for c in checks if c is not positive_data_acceptance])
    assert 400 <= response.status_code < 500, (rule, response.text)


def broken_cross_field_rule(case: Any) -> str | None:
    """The rule a body breaks that JSON Schema cannot state (it has no comparison between two
    fields), or None: a calling window must start before it ends; a contact cannot end before
    it started, nor last longer than its duration column holds."""
    body = case.body
    if case.method != "POST" or not isinstance(body, dict):
        return None
    if case.path == "/api/campaigns":
        start, end = body.get("window_start", "08:00"), body.get("window_end", "21:00")
        if isinstance(start, str) and isinstance(end, str) and start >= end:
            return "window_start >= window_end"  # both HH:MM, so text order is time order
    if case.path == "/api/interactions":
        started, ended = body.get("started_at"), body.get("ended_at")
        try:
            length = datetime.fromisoformat(str(ended)) - datetime.fromisoformat(str(started))
        except (ValueError, TypeError):  # not both instants: the document judges it
            return None
        if not timedelta(0) <= length <= MAX_CONTACT:
            return "ended_at before started_at, or more than MAX_CONTACT after"
    return None
