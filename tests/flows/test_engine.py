"""The engine runs flows on a real Call over FastAGI, the emulator playing Asterisk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ivr.flows.catalog import PinnedFlows
from ivr.telephony.emulator.agi_events import AppExecuted
from tests.flows.conftest import When, fixture_flow, place_call

KEYPAD = "ivr/please-use-keypad"


async def test_menu_key_choice_follows_the_option_and_records_intent() -> None:
    out = await place_call(fixture_flow("menu-basic"), [When("t/menu", "1")])
    assert out.result.path == ["welcome", "menu", "billing", "billing-done", "bye"]
    assert out.result.intent == "billing"
    assert out.result.outcome == "self_served"
    assert out.prompts[-2:] == ["t/billing", "t/goodbye"]
    assert out.run is not None and out.run.variables["topic"] == "billing for +15550100001"
    assert [(i.node, i.kind, i.value) for i in out.run.inputs] == [("menu", "key", "1")]


async def test_no_input_escalates_reprompts_then_falls_back_to_agent_with_vars() -> None:
    out = await place_call(fixture_flow("menu-basic"))
    menu_prompts = [p for p in out.prompts if p.startswith("t/") and p != "t/welcome"]
    assert menu_prompts[:3] == ["t/menu", "t/no-input-1", "t/no-input-2"]
    assert out.result.path[-3:] == ["menu", "agent", "to-agent"]
    assert out.result.outcome == "transferred"
    assert out.variables["IVR_TRANSFER_TO"] == "queue-support"
    assert out.variables["IVR_QUEUE_HINT"] == "general"
    assert out.variables["IVR_PRIORITY"] == "2"
    assert out.run is not None
    assert [i.kind for i in out.run.inputs] == ["no_input"] * 3


async def test_global_zero_reaches_the_agent_from_a_menu() -> None:
    out = await place_call(fixture_flow("menu-basic"), [When("t/menu", "0")])
    assert out.result.path == ["welcome", "menu", "agent", "to-agent"]
    assert out.result.outcome == "transferred"
    assert out.run is not None and out.run.inputs[0].kind == "global"


async def test_star_repeats_the_menu_without_counting_a_retry() -> None:
    script = [When("t/menu", "*"), When("t/menu", "*"), When("t/menu", "9")]
    out = await place_call(fixture_flow("menu-basic"), script)
    assert [p for p in out.prompts if p == "t/menu"] == ["t/menu"] * 3
    assert "t/no-match" not in out.prompts
    assert out.result.path[-1] == "bye"


async def test_wrong_key_gets_the_no_match_reprompt() -> None:
    out = await place_call(
        fixture_flow("menu-basic"), [When("t/menu", "5"), When("t/no-match", "9")]
    )
    assert out.result.path[-1] == "bye"
    assert out.run is not None
    assert [i.kind for i in out.run.inputs] == ["no_match", "key"]


async def test_hash_goes_back_to_the_parent_menu() -> None:
    script = [When("t/menu", "2"), When("t/other", "#"), When("t/menu", "9")]
    out = await place_call(fixture_flow("menu-basic"), script)
    assert out.result.path == ["welcome", "menu", "other-menu", "menu", "bye"]


async def test_agent_outside_business_hours_hears_closed_message() -> None:
    evening = datetime(2026, 11, 25, 19, 30, tzinfo=UTC)
    out = await place_call(fixture_flow("menu-basic"), [When("t/menu", "0")], now=evening)
    assert out.result.path[-2:] == ["agent", "closed"]
    assert out.prompts[-1] == "t/closed"
    assert out.result.outcome == "failed"
    assert "IVR_TRANSFER_TO" not in out.variables


async def test_agent_on_a_holiday_is_closed_even_in_opening_hours() -> None:
    christmas_noon = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)
    out = await place_call(fixture_flow("menu-basic"), [When("t/menu", "0")], now=christmas_noon)
    assert out.result.path[-1] == "closed"


async def test_hangup_mid_menu_is_abandoned() -> None:
    out = await place_call(fixture_flow("menu-basic"), [When("t/menu", hangup=True)])
    assert out.result.outcome == "abandoned"
    assert out.result.path == ["welcome", "menu"]
    assert out.error is None


async def test_speech_unavailable_falls_back_to_keys_with_one_keypad_prompt() -> None:
    script = [When("t/menu", "2"), When("t/other", "1")]
    out = await place_call(fixture_flow("menu-basic"), script)
    assert out.prompts.count(KEYPAD) == 1
    assert out.result.path[-1] == "bye"


async def test_goto_continues_in_the_other_flow(pinned: Callable[..., PinnedFlows]) -> None:
    script = [When("b/enter-account", "12345#")]
    out = await place_call(fixture_flow("goto-a"), script, flows=pinned("goto-b"))
    assert out.result.path == [
        "hello", "jump", "goto-b:intro", "goto-b:ask", "goto-b:thanks", "goto-b:done",
    ]  # fmt: skip
    assert out.result.outcome == "self_served"
    assert out.run is not None and out.run.variables["account"] == "12345"
    said = [e for e in out.events if isinstance(e, AppExecuted)]
    assert said == [] and "b/thanks" in out.prompts


async def test_gather_rejects_too_short_entry_then_falls_back(
    pinned: Callable[..., PinnedFlows],
) -> None:
    script = [When("b/enter-account", "12#"), When("b/invalid", "9#")]
    out = await place_call(fixture_flow("goto-a"), script, flows=pinned("goto-b"))
    assert out.result.path[-1] == "goto-b:sorry"
    assert out.run is not None
    assert [i.kind for i in out.run.inputs] == ["invalid", "invalid"]
