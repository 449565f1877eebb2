"""The emulator moves a channel through a dialplan as Asterisk 22's pbx does: substitution
innermost first, $[...] comparisons, GotoIf/Goto by label or priority across contexts."""

from __future__ import annotations

from pathlib import Path

from ivr.telephony.emulator.dialplan import Dialplan
from ivr.telephony.emulator.dialplan_run import Position, expand, gotoif_target


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
