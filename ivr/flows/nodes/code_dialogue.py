"""Spoken codes confirmed by dialogue, for `gather` (digits, account numbers) and `authenticate`.

The options (`confirm`, `confirm_below`, `max_tries`) are the flow's; the policy - when to read
back, how a repetition is merged, when to stop - is ivr/speech/dialogue.py, the one the
benchmark measures. Keys win at any point: a keyed code is taken as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import Field

from ivr.call.errors import FeatureUnavailable
from ivr.flows.nodes.base import Model, Spoken
from ivr.speech.dialogue import (
    CONFIRM_BELOW,
    MAX_TRIES,
    NO_KEY,
    YES_KEY,
    Confirm,
    Dialogue,
    Reading,
    Step,
)

if TYPE_CHECKING:
    from ivr.call.session import Gathered, GatherMode
    from ivr.flows.runtime import Runtime


class CodeConfirm(Model):
    """`confirm: auto` reads a spoken code back only when a digit is doubtful (scored under
    `confirm_below`); `always` reads every spoken code back; `never` takes it as heard.
    `max_tries` spoken codes, then keys only."""

    confirm: Confirm = "auto"
    confirm_below: float = Field(CONFIRM_BELOW, ge=0.0, le=1.0)
    max_tries: int = Field(MAX_TRIES, ge=1, le=5)


async def ask_code(
    rt: Runtime, node_id: str, spoken: Spoken, opts: CodeConfirm, *, mode: GatherMode,
    length: int, finish_key: str = "#", timeout: float | None = None,
) -> Gathered:  # fmt: skip
    """Ask for a code of up to `length` digits; a spoken one goes through the dialogue."""

    async def ask(said: Spoken, how: GatherMode) -> Gathered:
        return await rt.ask(said, mode=how, max_digits=length, finish_key=finish_key,
                            timeout=timeout)

    keys_only = f"keys-only:{node_id}"  # this node gave up on speech for the call
    if rt.ctx.state.get(keys_only):
        return await ask(spoken, "dtmf")
    got = await ask(spoken, mode)
    if got.mode != "speech" or not got.digits:
        return got  # keys, or nothing: as before
    talk = Dialogue(opts.confirm, opts.confirm_below, opts.max_tries)
    step = talk.heard(_reading(got))
    while True:
        if step is Step.ACCEPT:
            assert talk.reading is not None
            return replace(got, digits=talk.reading.digits)
        if step is Step.KEYPAD:
            rt.record(node_id, "confirm", "keypad")
            rt.ctx.state[keys_only] = True  # its retries, if any, take keys too
            return await ask(Spoken(prompt=rt.defaults.keypad_prompt), "dtmf")
        if step is Step.ASK_AGAIN:
            again = await ask(spoken, mode)
            if again.mode != "speech" or not again.digits:
                return again
            step = talk.heard(_reading(again))
            continue
        answer = await _read_back(rt, node_id, talk, mode, length, finish_key, timeout)
        if answer is None:  # no TTS or speech any more: the keypad
            step = Step.KEYPAD
        elif answer.mode != "speech" and len(answer.digits) > 1:
            return answer  # the code keyed over the read-back replaces what was heard
        elif answer.mode == "speech":
            step = talk.answered(said=_reading(answer))
        else:
            step = talk.answered(keys=answer.digits)


async def _read_back(
    rt: Runtime, node_id: str, talk: Dialogue, mode: GatherMode, length: int, finish_key: str,
    timeout: float | None,
) -> Gathered | None:  # fmt: skip
    """"I heard 4 8 1 2 7 0. Press 1 if that is right, or say it again": one turn in which
    1 or 2 answer at once, more keys are the code keyed, speech is the code said again."""
    assert talk.reading is not None
    rt.record(node_id, "confirm", talk.reading.digits, min(talk.reading.confidence, default=0))
    if not (rt.speech_ok and rt.tts_ok):
        return None
    try:
        return await rt.call.gather(
            text=talk.read_back(rt.call.language), mode=mode,
            max_digits=length, finish_on_key=finish_key,
            timeout=timeout or rt.defaults.first_input_timeout,
            inter_digit_timeout=rt.defaults.inter_digit_timeout, answer_keys=YES_KEY + NO_KEY)
    except FeatureUnavailable:
        rt.speech_ok = False
        return None


def _reading(got: Gathered) -> Reading:
    return Reading(got.digits, got.digit_confidence, got.digit_beliefs)
