"""What each scripted outcome does to the two legs, event by event (see the originate traces)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from ivr.telephony.emulator.ami_channels import (
    Channel,
    chan_event,
    device_state,
    dial_event,
    hangup_event,
    newexten,
    varset,
)
from ivr.telephony.emulator.ami_script import AnsweredCall, Outcome
from ivr.telephony.emulator.dialplan import Context, Dialplan, Extension
from ivr.telephony.emulator.dialplan_run import Position, expand, gotoif_target

if TYPE_CHECKING:
    from ivr.telephony.emulator.ami_call import EmulatedCall

_EARLY = {  # outcome -> (callee app, data, Cdr disposition, DialStatus, cause)
    Outcome.REJECTED: ("Hangup", "21", "NO ANSWER", "NOANSWER", 21),
    Outcome.UNAVAILABLE: ("Hangup", "20", "FAILED", "CHANUNAVAIL", 20),
}


async def play_outcome(call: EmulatedCall, outcome: Outcome) -> None:
    if outcome in (Outcome.BUSY, Outcome.CONGESTION):
        _busy(call, outcome)
    elif outcome in (Outcome.NO_ANSWER, Outcome.NO_RING):
        await _no_answer(call, ringing=outcome is Outcome.NO_ANSWER)
    elif outcome in _EARLY:
        _early_hangup(call, *_EARLY[outcome])
    else:
        await _answered(call, machine=outcome is Outcome.MACHINE)


def _busy(call: EmulatedCall, outcome: Outcome) -> None:
    a, b = call.a, call.b
    busy = outcome is Outcome.BUSY
    app = "Busy" if busy else "Congestion"
    b.cdr_app, b.cdr_data = app, "10"
    call.emit(newexten(b, app, "10"), b)
    b.state = 7
    call.emit(chan_event("Newstate", b), b)
    call.emit(device_state(call.device, "INUSE"))
    call.emit(dial_event("DialEnd", a, [("DialStatus", "BUSY" if busy else "CONGESTION")]))
    call.emit(chan_event("HangupRequest", b, [("Cause", "0")]), b)
    call.emit(hangup_event(a, 0), a)
    disposition = "BUSY" if busy else "FAILED"
    call.cdr(a, disposition)
    call.resolve(False, 5 if busy else 8)
    call.emit(device_state(call.device, "NOT_INUSE"))
    call.emit(chan_event("SoftHangupRequest", b, [("Cause", "16")]), b)
    call.emit(hangup_event(b, 17 if busy else 34), b)
    call.emit(device_state(call.device, "NOT_INUSE"))
    call.cdr(b, disposition)


async def _no_answer(call: EmulatedCall, *, ringing: bool) -> None:
    a, b = call.a, call.b
    if ringing:
        call.emit(newexten(b, "Ringing", ""), b)
        a.state = 5
        call.emit(chan_event("Newstate", a), a)
        b.priority = 2
    b.cdr_app, b.cdr_data = "Wait", "60"
    call.emit(newexten(b, "Wait", "60"), b)
    if ringing:
        call.emit(dial_event("DialState", a, [("DialStatus", "RINGING")]))
    await call.sleep(call.req.timeout_ms / 1000)
    call.emit(chan_event("HangupRequest", b, [("Cause", "19")]), b)
    call.resolve(False, 3)
    call.emit(chan_event("SoftHangupRequest", b, [("Cause", "16")]), b)
    call.emit(hangup_event(a, 19), a)
    call.cdr(b, "NO ANSWER")
    call.cdr(a, "NO ANSWER")
    call.emit(hangup_event(b, 19), b)


def _early_hangup(
    call: EmulatedCall, app: str, data: str, disposition: str, dial_status: str, cause: int
) -> None:
    a, b = call.a, call.b
    b.cdr_app, b.cdr_data = app, data
    call.emit(newexten(b, app, data), b)
    call.emit(chan_event("SoftHangupRequest", b, [("Cause", "16")]), b)
    call.emit(chan_event("HangupRequest", a, [("Cause", str(cause))]), a)
    call.emit(hangup_event(b, cause), b)
    call.cdr(b, disposition)
    call.emit(dial_event("DialEnd", a, [("DialStatus", dial_status)]))
    call.resolve(False, 0)
    call.emit(hangup_event(a, cause), a)
    call.cdr(a, disposition)


def _expand(text: str, ch: Channel, global_vars: dict[str, str] | None = None) -> str:
    known = {**(global_vars or {}), **ch.variables, "EXTEN": ch.exten, "CHANNEL": ch.name,
             "UNIQUEID": ch.uniqueid, "CONTEXT": ch.context}
    return expand(text, known)


def _runs_amd(call: EmulatedCall) -> bool:
    return any(app.upper() == "AMD" for app, _ in call.target_program or ())


def _amd(call: EmulatedCall, machine: bool) -> None:
    """AMD()'s verdict on the answered leg, as amd-results.txt shows it."""
    a = call.a
    status, cause = ("MACHINE", call.script.amd_cause) if machine else ("HUMAN", "HUMAN-800-800")
    call.emit(varset(a, "AMDSTATUS", status), a)
    call.emit(varset(a, "AMDCAUSE", cause), a)


async def _answered(call: EmulatedCall, *, machine: bool) -> None:
    a, b = call.a, call.b
    await call.sleep(call.script.answer_ms / 1000)
    b.cdr_app, b.cdr_data = "Answer", ""
    call.emit(newexten(b, "Answer", ""), b)
    b.state = a.state = 6
    call.emit(chan_event("Newstate", b), b)
    call.emit(chan_event("Newstate", a), a)
    call.emit(dial_event("DialEnd", a, [("DialStatus", "ANSWER")]))
    a.answered = b.answered = a.created
    call.resolve(True, 4)
    if machine and not _runs_amd(call):  # no AMD() in the target: its verdict comes anyway
        _amd(call, machine)
    await _talk(call, machine)


async def _run_callee(call: EmulatedCall) -> tuple[Channel, int, bool]:
    b = call.b
    for prio, (app, data) in enumerate(call.callee_program, start=2):
        b.priority = prio
        data = _expand(data, b)
        b.cdr_app, b.cdr_data = app, data
        if app == "Hangup":
            return b, int(data or 16), True
        call.emit(newexten(b, app, data), b)
        call._b_agi = app == "AGI"
        await call.sleep(float(data) if app == "Wait" and data else None)
    return b, 16, False


async def _run_target(call: EmulatedCall, machine: bool) -> tuple[Channel, int, bool]:
    a, req = call.a, call.req
    if call.target_program is None:
        a.cdr_app, a.cdr_data = req.application, req.data
        call._a_playing = req.application
        await call.sleep(None)
        return a, 16, False
    call._pbx_a = True
    a.context, a.exten = req.context, req.exten
    a.cdr_dcontext, a.cdr_dst = req.context, req.exten
    start = int(req.priority or 1)
    pos = call.host.position(req.context, req.exten, start)
    if pos is None:  # a lab target: its steps run in order
        pos = Position(Dialplan(), req.context, req.exten, start)
        pos.plan.contexts[req.context] = Context(req.context, [Extension(req.exten, dict(
            enumerate(call.target_program, start=start)))])
    while (step := pos.step()) is not None:
        a.context, a.exten, a.priority = pos.context, pos.exten, pos.priority
        app, data = step[0], _expand(step[1], a, call.host.global_vars)
        a.cdr_app, a.cdr_data = app, data
        call.emit(newexten(a, app, data), a)
        if app == "Hangup":
            return a, int(data or 16), False
        call._a_playing = app if app == "Playback" else ""
        if app in ("Goto", "GotoIf"):
            dest = data if app == "Goto" else gotoif_target(data)
            if dest is not None:
                if not pos.goto(dest):
                    return a, 16, False  # pbx.c: no such place, the channel hangs up
                continue
        elif app == "Set" and "(" not in data.partition("=")[0]:  # functions raise no VarSet
            name, _, value = data.partition("=")
            call.emit(varset(a, name.strip(), value), a)
        elif app.upper() == "AMD":
            _amd(call, machine)
        elif app == "AGI":
            status = await _agi(call, data)
            call.emit(varset(a, "AGISTATUS", status), a)
            if status == "HANGUP":
                return a, 16, False  # the script hung the channel up: the dialplan stops
        elif app in ("Wait", "Playback"):
            await call.sleep(float(data) if app == "Wait" and data else None)
        elif app == "Queue":
            await call.sleep(None)  # a caller waits in the queue until an agent or a hangup
        pos.next()
    return a, 16, False


async def _agi(call: EmulatedCall, data: str) -> str:
    """AGI(url,arg1,arg2...): the hook plays the FastAGI session; returns AGISTATUS. What the
    script set stays on the channel for the dialplan after AGI()."""
    a, hook = call.a, call.host.on_answer
    url, *args = data.split(",")
    info = AnsweredCall(
        channel=a.name, uniqueid=a.uniqueid, linkedid=a.linkedid, dial_string=call.req.channel,
        number=call.callee_exten, context=call.req.context, exten=call.req.exten,
        caller_id_num=call.req.caller_num, caller_id_name=call.req.caller_name,
        account=call.req.account, variables=dict(a.variables), agi_url=url, agi_args=args,
    )
    call.answered_call = info
    if hook is None:
        await call.sleep(None)
        return "SUCCESS"
    call._a_agi = True
    try:
        await hook(info)
    finally:
        call._a_agi = False
    for name, value in info.variables.items():
        if a.variables.get(name) != value:
            call.emit(varset(a, name, value), a)
    return info.agi_status


async def _talk(call: EmulatedCall, machine: bool) -> None:
    target = asyncio.create_task(_run_target(call, machine))
    callee = asyncio.create_task(_run_callee(call))
    done, _ = await asyncio.wait({target, callee}, return_when=asyncio.FIRST_COMPLETED)
    if call._hangup_req is not None:
        first, cause, via_app = call._hangup_req[0], call._hangup_req[1], False
    else:
        first, cause, via_app = (target if target in done else callee).result()
        if first is call.a:
            via_app = False  # the target's Newexten Hangup was already reported
    keep_agi = call._a_agi and first is call.b
    for task in (target, callee):
        if task not in done and not (keep_agi and task is target):
            task.cancel()
            await asyncio.wait([task])  # keeps a cancellation of our own
    await _hang_up_answered(call, first, cause, via_app, target if keep_agi else None)


async def _hang_up_answered(
    call: EmulatedCall, first: Channel, cause: int, via_app: bool,
    agi_task: asyncio.Task[tuple[Channel, int, bool]] | None,
) -> None:
    a, b = call.a, call.b
    other = b if first is a else a
    if via_app:
        call.emit(newexten(first, "Hangup", ""), first)
    call.emit(chan_event("SoftHangupRequest", first, [("Cause", "16")]), first)
    call.emit(chan_event("HangupRequest", other, [("Cause", str(cause))]), other)
    call.emit(hangup_event(first, cause), first)
    call.cdr(first, "ANSWERED")
    if call.answered_call is not None:
        call.answered_call.callee_hangup.set()
    if agi_task is not None:
        with contextlib.suppress(Exception):
            await agi_task
    if other is a and call._a_playing == "Playback":
        call.emit(varset(a, "PLAYBACKSTATUS", "SUCCESS"), a)
    if (other is a and call.answered_call is not None) or (other is b and call._b_agi):
        call.emit(varset(other, "AGISTATUS", "HANGUP"), other)
    if other is b or call._pbx_a:
        call.emit(chan_event("SoftHangupRequest", other, [("Cause", "16")]), other)
    call.emit(hangup_event(other, cause), other)
    call.cdr(other, "ANSWERED")
