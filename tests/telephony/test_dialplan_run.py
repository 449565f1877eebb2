"""The emulator moves a channel through a dialplan as Asterisk 22's pbx does: substitution
innermost first, $[...] comparisons, GotoIf/Goto by label or priority across contexts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.telephony.emulator.ami import AmiEmulator
from ivr.telephony.emulator.ami_call import OriginateRequest
from ivr.telephony.emulator.ami_script import AnsweredCall
from ivr.telephony.emulator.dialplan import Dialplan
from ivr.telephony.emulator.dialplan_run import Position, expand, gotoif_target
from tests.campaigns.conftest import shipped_asterisk


def test_substitution_is_innermost_first_with_substrings_and_if() -> None:
    known = {"EXTEN": "queue-agents", "IVR_PRIORITY": ""}
    assert expand("${EXTEN:6}", known) == "agents"
    assert expand("${EXTEN:-6}|${EXTEN:0:5}", known) == "agents|queue"
    assert expand('${IF($["${IVR_PRIORITY}" = ""]?0:${IVR_PRIORITY})}', known) == "0"
    assert expand('${IF($["${IVR_PRIORITY}" = ""]?0:${IVR_PRIORITY})}',
                  {"IVR_PRIORITY": "5"}) == "5"
    assert expand('$["${UNSET}" != ""]', known) == "0"
    assert expand("$[10 = 10.0]", known) == "1"


def test_gotoif_takes_a_branch_only_on_a_true_condition() -> None:
    assert gotoif_target("1?yes:no") == "yes"
    assert gotoif_target("0?yes:no") == "no"
    assert gotoif_target("?yes:no") == "no"
    assert gotoif_target("0?yes") is None  # no false branch: the next priority
    assert gotoif_target("1") is None  # no question mark: ignored


def test_goto_reaches_labels_and_other_contexts_and_refuses_nowhere(tmp_path: Path) -> None:
    conf = tmp_path / "extensions.conf"
    conf.write_text(
        "[in]\nexten => _X.,1,NoOp()\n same => n(done),Hangup()\n"
        "[out]\nexten => _queue-.,1,Queue(${EXTEN:6})\n")
    pos = Position(Dialplan.load([conf]), "in", "100")
    assert pos.goto("done") and pos.priority == 2
    assert pos.step() == ("Hangup", "")
    assert pos.goto("out,queue-agents,1") and (pos.context, pos.exten) == ("out", "queue-agents")
    assert pos.step() == ("Queue", "${EXTEN:6}")
    assert not pos.goto("out,nothing,1") and not pos.goto("in,100,missing")
    assert pos.context == "out"  # a failed Goto leaves the channel where it was


async def _run_inbound(agi_status: str, variables: dict[str, str]) -> list[tuple[str, str]]:
    """One call into the shipped [ivr-inbound] whose AGI() ends with `agi_status` having set
    `variables`; the applications the channel ran until it waits in a queue or hangs up."""
    config, _ = shipped_asterisk("agi://127.0.0.1:4573")

    async def answered(call: AnsweredCall) -> None:
        call.variables.update(variables)
        call.agi_status = agi_status

    async with AmiEmulator(config=config, on_answer=answered) as ami:
        call = ami.start_call(OriginateRequest(channel="PJSIP/1001", context="ivr-inbound",
                                               exten="18005550100"))

        def ran() -> list[tuple[str, str]]:
            return [(m.get("Application") or "", m.get("AppData") or "") for m in ami.raised
                    if m.get("Event") == "Newexten" and m.get("Channel") == call.a.name]

        async with asyncio.timeout(10):
            while call in ami.calls and "Queue" not in [app for app, _ in ran()]:
                assert len(ran()) < 20  # a dialplan that loops
                await asyncio.sleep(0.01)  # the emulated channel runs on its own task
        call.request_hangup(call.a, 16)
        return ran()


async def test_the_shipped_inbound_dialplan_routes_on_what_agi_left() -> None:
    billing = await _run_inbound("SUCCESS", {"IVR_TRANSFER_TO": "queue-billing",
                                             "IVR_PRIORITY": "8"})
    assert billing[-2:] == [("Set", "QUEUE_PRIO=8"), ("Queue", "billing,t")]
    no_node = await _run_inbound("FAILURE", {})  # no ivr node answered at all
    assert no_node[-1] == ("Queue", "agents,t")
    assert ("NoOp", "ivr: no ivr node finished this call, AGISTATUS=FAILURE") in no_node
    hung_up = await _run_inbound("HANGUP", {})  # ivr hung up: the dialplan stops
    assert "Queue" not in [app for app, _ in hung_up]
