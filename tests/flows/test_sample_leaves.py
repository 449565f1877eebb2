"""Every leaf of both sample flows is reached by a real emulated call over FastAGI, driven by
keys, through the production services (CRM lookup in the store, OTP by SMS to a loopback
gateway, self-service, callbacks). Each route is planned as the nodes it should visit; the keys
that walk it are read from the flow's YAML, and the call's recorded path must be that route.
The leaves are computed from the loaded flows, so a new leaf without a route fails here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ivr.auth.otp import OtpService
from ivr.auth.senders import HttpSmsSender
from ivr.customers.context import LiveContexts
from ivr.customers.crm import CallerLookup, SqlCrm
from ivr.customers.resilience import TtlCache
from ivr.flows.caller_services import CallerServices
from ivr.flows.compiled import CompiledFlow
from ivr.flows.nodes.menu import Menu
from ivr.flows.store_services import StoreServices
from ivr.flows.validate import compile_flow
from ivr.store.db import Database
from ivr.store.domain import NewAccount, NewRequest
from ivr.store.repositories.customers import CustomerRepository
from tests.auth.conftest import SECRET, Clock, code_in
from tests.customers.http_stub import HttpStub, http_stub
from tests.flows.caller_rig import DIALPLANS, late_keys, sample
from tests.flows.conftest import CallOutcome, When, place_call
from tests.flows.leaves import SILENCE, leaves, route_keys, visited

FLOWS = ("main-en", "main-ru")
# Tuesday 2026-03-10 14:00 UTC: 10:00 in New York, 17:00 in Moscow, both open.
OPEN = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
# 03:00 UTC: Monday 23:00 in New York, Tuesday 06:00 in Moscow, both closed.
CLOSED = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)

DANA = "+15550200001"  # area with an outage, an account, an open request
EVAN = "+15550200002"  # area without an outage, no account, no request
FAY = "+15550200003"  # no area on file
STRANGER = "+15550209999"  # not a customer
WITHHELD = "anonymous"
DANA_ACCOUNT = "2000001"
OUTAGES = {"north": "6 pm"}


@dataclass
class Env:
    services: CallerServices
    gateway: HttpStub

    def last_code(self) -> str:
        return code_in(str(json.loads(self.gateway.received[-1].body)["text"]))

    def wrong_code(self) -> str:
        return f"{(int(self.last_code()) + 1) % 10**6:06d}"


Inputs = Callable[[Env], list[When]]


def keyed(prompt: str, keys: str) -> Inputs:
    return lambda env: [When(prompt, keys)]


def the_code(env: Env) -> list[When]:
    return [late_keys("ivr/auth-enter-code", env.last_code)]


def three_wrong_codes(env: Env) -> list[When]:
    prompts = ("ivr/auth-enter-code", "ivr/auth-code-wrong", "ivr/auth-code-wrong")
    return [late_keys(p, env.wrong_code) for p in prompts]


@dataclass(frozen=True)
class Route:
    """A planned call: who calls when, the nodes it should visit (SILENCE after a menu: say
    nothing there), and what the caller keys at the nodes that are not menus."""

    name: str
    caller: str
    route: tuple[str, ...]
    now: datetime = OPEN
    inputs: dict[str, Inputs] = field(default_factory=dict)
    prompts: tuple[str, ...] = ()  # must be heard on the way (what the data decided)
    variables: dict[str, str] = field(default_factory=dict)  # channel variables at the end


KNOWN = ("identify", "greet-known", "main-menu")
UNKNOWN = ("identify", "greet", "main-menu")
BILLING = ("billing-menu",)
DONE = ("anything-else", "goodbye")
TO_AGENT = ("agent", "to-agent")
ACCOUNT = {"ask-account": keyed("ivr/billing-enter-account", DANA_ACCOUNT + "#")}
NO_ACCOUNT = {"ask-account": keyed("ivr/billing-enter-account", "9999999#")}
NEW_LIMIT = keyed("ivr/billing-enter-limit", "150#")

ROUTES = (
    Route("known caller hears the balance", DANA,
          (*KNOWN, *BILLING, "balance", "balance-say", *DONE)),
    Route("caller keys another customer's account: her code is asked, then an agent", EVAN,
          (*KNOWN, *BILLING, "balance", "ask-account", "find-account", "verify-account",
           *TO_AGENT), inputs=ACCOUNT, variables={"IVR_AUTHENTICATED": "no"}),
    Route("an account keyed from another phone is told once its code is keyed", STRANGER,
          (*UNKNOWN, *BILLING, "balance", "ask-account", "find-account", "verify-account",
           "balance", "balance-say", *DONE), inputs={**ACCOUNT, "verify-account": the_code}),
    Route("unknown caller keys an account that is not found", STRANGER,
          (*UNKNOWN, *BILLING, "balance", "ask-account", "find-account", *TO_AGENT),
          inputs=NO_ACCOUNT),
    Route("outage in the caller's area", DANA, (*KNOWN, "outage", "outage-say", *DONE),
          prompts=("ivr/outage-in-your-area",)),
    Route("no outage in the caller's area", EVAN, (*KNOWN, "outage", "no-outage", *DONE),
          prompts=("ivr/outage-none",)),
    Route("known caller with no area on file", FAY, (*KNOWN, "outage", "area-unknown", *DONE),
          prompts=("ivr/outage-area-unknown",)),
    Route("unknown caller has no area", STRANGER, (*UNKNOWN, "outage", "area-unknown", *DONE)),
    Route("open request, then back to the menu and an agent", DANA,
          (*KNOWN, "request-status", "request-say", "anything-else", "main-menu", *TO_AGENT),
          prompts=("ivr/request-your-request",),
          variables={"IVR_TRANSFER_TO": "queue-agents"}),
    Route("no open request", EVAN, (*KNOWN, "request-status", "no-request", *DONE),
          prompts=("ivr/request-none",)),
    Route("silence after the request status hangs up", STRANGER,
          (*UNKNOWN, "request-status", "no-request", "anything-else", SILENCE, "goodbye")),
    Route("verified code goes to billing with the new limit", DANA,
          (*KNOWN, *BILLING, "verify", "bill-limit", "limit-to-agent"),
          inputs={"verify": the_code, "bill-limit": NEW_LIMIT},
          variables={"IVR_AUTHENTICATED": "yes", "IVR_NEW_LIMIT": "150.00",
                     "IVR_TRANSFER_TO": "queue-billing"}),
    Route("no code keyed fails to an agent", DANA,
          (*KNOWN, *BILLING, "verify", *TO_AGENT),
          variables={"IVR_AUTHENTICATED": "no"}),
    Route("three wrong codes lock out to an agent", DANA,
          (*KNOWN, *BILLING, "verify", *TO_AGENT), inputs={"verify": three_wrong_codes},
          prompts=("ivr/auth-locked",),
          variables={"IVR_AUTHENTICATED": "no", "IVR_AUTH_RESULT": "locked"}),
    Route("unknown caller cannot get a code", STRANGER,
          (*UNKNOWN, *BILLING, "verify", *TO_AGENT),
          variables={"IVR_AUTH_RESULT": "unavailable"}),
    Route("after hours a known caller books a callback", DANA,
          (*KNOWN, "agent", "after-hours", "callback", "callback-ok", "goodbye"), now=CLOSED,
          prompts=("ivr/main-callback-scheduled",)),
    Route("after hours a withheld number gets no callback", WITHHELD,
          (*UNKNOWN, "agent", "after-hours", "callback", "goodbye"), now=CLOSED),
    Route("after hours back to the menu, then silence hangs up", STRANGER,
          (*UNKNOWN, "agent", "after-hours", "main-menu", "agent", "after-hours", SILENCE,
           "goodbye"), now=CLOSED),
)  # fmt: skip


def add_customers(db: Database) -> None:
    repo = CustomerRepository(db)
    visit = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
    repo.add(
        "Dana Reed", [DANA], time_zone="America/New_York", area="north",
        accounts=[NewAccount(DANA_ACCOUNT, Decimal("42.50"), Decimal("100"), Decimal("60"))],
        requests=[NewRequest("technician", "meter check", "scheduled", visit, visit)],
    )  # fmt: skip
    repo.add("Evan Cole", [EVAN], time_zone="America/New_York", area="south")
    repo.add("Fay Lund", [FAY], time_zone="America/New_York")


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    add_customers(database)
    yield database
    database.dispose()


@pytest.fixture
async def env(db: Database) -> AsyncIterator[Env]:
    async with http_stub() as gateway:
        sms = HttpSmsSender(gateway.url + "/sms")
        clock = Clock()
        clock.now = OPEN
        otp = OtpService(db, SECRET, {"sms": sms}, ttl_seconds=300, clock=clock)
        services = CallerServices(
            db, CallerLookup(SqlCrm(db), cache=TtlCache(30.0)), otp=otp,
            store=StoreServices(db, outages=OUTAGES), live=LiveContexts(db), clock=clock,
        )  # fmt: skip
        yield Env(services, gateway)
        await sms.aclose()


PAYMENTS_OPTION = '      - {key: "3", say: [payments], goto: payments}\n'
PAYMENTS_NODE = """
  payments:
    type: transfer
    queue: payments
    prompt: ivr/billing-connecting
"""


def script(flow: CompiledFlow, plan: Route, env: Env) -> list[When]:
    """The caller's reactions in route order: the key each menu needs, the inputs elsewhere."""
    keys = iter(route_keys(flow.model, plan.route))
    steps: list[When] = []
    for here, there in zip(plan.route, (*plan.route[1:], ""), strict=True):
        if here in plan.inputs:
            steps += plan.inputs[here](env)
        elif isinstance(flow.model.nodes.get(here), Menu) and there != SILENCE:
            prompt, key = next(keys)
            steps.append(When(prompt, key))
    return steps


async def drive(flow_name: str, plan: Route, env: Env) -> CallOutcome:
    flow = sample(flow_name)
    out = await place_call(
        flow, script(flow, plan, env), services=env.services, caller=plan.caller, now=plan.now
    )
    assert out.error is None, out.error
    return out


def ends(routes: Sequence[Route]) -> set[str]:
    return {visited(r.route)[-1] for r in routes}


@pytest.mark.parametrize("flow_name", FLOWS)
def test_the_planned_routes_end_in_every_leaf_of_the_flow(flow_name: str) -> None:
    found = leaves(sample(flow_name).model)
    assert found >= {"goodbye", "to-agent", "limit-to-agent"}  # the computation sees them
    assert ends(ROUTES) >= found, f"leaves without a route: {sorted(found - ends(ROUTES))}"
    assert ends(ROUTES) <= found, "a route ends in a node that is no leaf"


def test_a_new_leaf_in_the_yaml_is_one_no_route_ends_in() -> None:
    text = (DIALPLANS / "main-en.yaml").read_text(encoding="utf-8")
    anchor = "goto: verify}\n"
    assert anchor in text
    extended = text.replace(anchor, anchor + PAYMENTS_OPTION, 1) + PAYMENTS_NODE
    flow = compile_flow(extended, "main-en-extended.yaml").model
    assert leaves(flow) - ends(ROUTES) == {"payments"}
    assert route_keys(flow, ("billing-menu", "payments")) == [("ivr/billing-menu", "3")]


def test_a_leaf_is_a_hangup_a_transfer_or_a_node_with_no_way_on() -> None:
    flow = sample("main-en").model
    found = leaves(flow)
    kinds = {flow.nodes[n].type for n in found}
    assert kinds == {"hangup", "transfer"}
    assert "callback-ok" not in found and "agent" not in found


@pytest.mark.parametrize("flow_name", FLOWS)
@pytest.mark.parametrize("plan", [
    pytest.param(r, id=r.name.replace(" ", "-")) for r in ROUTES
])  # fmt: skip
async def test_a_keyed_call_follows_the_route_to_its_leaf(
    flow_name: str, plan: Route, env: Env
) -> None:
    out = await drive(flow_name, plan, env)
    expected = visited(plan.route)
    assert out.result.path == expected
    assert out.result.path[-1] in leaves(sample(flow_name).model)
    for prompt in plan.prompts:
        assert prompt in out.prompts
    for name, value in plan.variables.items():
        assert out.variables.get(name) == value, name
    if "callback" in expected:
        booked = [plan.caller] if "callback-ok" in expected else []
        assert env.services.callbacks == booked
