"""Spoken codes confirmed by dialogue, for `gather` (digits, account numbers) and `authenticate`.

The options (`confirm`, `confirm_below`, `max_tries`, `ask_digits`) are the flow's; the policy
- when to read back, how a repetition is merged, which digits to ask for alone, when to stop -
is ivr/speech/dialogue.py, the one the benchmark measures. Keys win at any point: a keyed code
is taken as it is. A read-back listens for yes/no, the code said again and keys in one turn.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pydantic import Field

from ivr.call.errors import FeatureUnavailable
from ivr.flows.nodes.base import Model, Spoken
from ivr.speech.dialogue import (
    CONFIRM_BELOW,
    MAX_ASKED,
    MAX_TRIES,
    NO_KEY,
    YES_KEY,
    Confirm,
    Dialogue,
    Reading,
    Step,
)
from ivr.speech.grammar import Grammar

if TYPE_CHECKING:
    from ivr.call.session import Gathered, GatherMode
    from ivr.flows.runtime import Runtime

DIGIT_KEYS = "0123456789"


class CodeConfirm(Model):
    """`confirm: auto` reads a spoken code back only when a digit is doubtful (scored under
    `confirm_below`); `always` reads every spoken code back; `never` takes it as heard.
    After a code said again, up to `ask_digits` doubtful digits are asked for alone ("please
    say just the fourth digit"; 0: never). `max_tries` spoken codes, then keys only."""

    confirm: Confirm = "auto"
    confirm_below: float = Field(CONFIRM_BELOW, ge=0.0, le=1.0)
    max_tries: int = Field(MAX_TRIES, ge=1, le=5)
    ask_digits: int = Field(MAX_ASKED, ge=0, le=10)


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
    talk = Dialogue(opts.confirm, opts.confirm_below, opts.max_tries, opts.ask_digits)
    step = talk.heard(_reading(got))
    turn = _Turn(rt, node_id, mode, length, finish_key, timeout)
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
        if step is Step.ASK_DIGIT:
            answer = await turn.ask_digit(talk)
        else:
            answer = await turn.read_back(talk)
        if answer is None:  # no TTS or speech any more: the keypad
            step = Step.KEYPAD
        elif answer.mode != "speech" and len(answer.digits) > 1:
            return answer  # the code keyed over the question replaces what was heard
        elif step is Step.ASK_DIGIT:
            step = talk.digit(_reading(answer) if answer.mode == "speech"
                              else Reading.keyed(answer.digits))
        elif answer.mode == "speech" and not answer.digits and answer.text in ("yes", "no"):
            step = talk.answered(word=answer.text, sure=answer.confidence or 0.0)
        elif answer.mode == "speech":
            step = talk.answered(said=_reading(answer))
        else:
            step = talk.answered(keys=answer.digits)


class _Turn:
    """The dialogue's own questions: one turn each, in which keys and speech both answer."""

    def __init__(self, rt: Runtime, node_id: str, mode: GatherMode, length: int,
                 finish_key: str, timeout: float | None) -> None:
        self.rt, self.node_id, self.mode, self.length = rt, node_id, mode, length
        self.finish_key, self.timeout = finish_key, timeout

    async def read_back(self, talk: Dialogue) -> Gathered | None:
        """"I heard 4 8 1 2 7 0. Say yes or press 1 if that is right, or say it again": yes or
        no said, 1 or 2 pressed alone, more keys are the code keyed, digits said are the code
        said again."""
        assert talk.reading is not None
        self.rt.record(self.node_id, "confirm", talk.reading.digits,
                       min(talk.reading.confidence, default=0))
        language = self.rt.call.language or "en"
        return await self._listen(talk.read_back(language),
                                  Grammar.digits_or_yesno(language, self.length), YES_KEY + NO_KEY)

    async def ask_digit(self, talk: Dialogue) -> Gathered | None:
        """"Please say just the fourth digit": one digit said or pressed (a whole code keyed
        replaces the one heard)."""
        assert talk.asking is not None
        self.rt.record(self.node_id, "ask_digit", str(talk.asking + 1))
        language = self.rt.call.language or "en"
        return await self._listen(talk.ask_digit(language), Grammar.digits(language, 1),
                                  DIGIT_KEYS)

    async def _listen(self, text: str, grammar: Grammar, answer_keys: str) -> Gathered | None:
        rt = self.rt
        if not (rt.speech_ok and rt.tts_ok):
            return None
        try:
            return await rt.call.gather(
                text=text, mode=self.mode, max_digits=self.length, finish_on_key=self.finish_key,
                timeout=self.timeout or rt.defaults.first_input_timeout,
                inter_digit_timeout=rt.defaults.inter_digit_timeout, answer_keys=answer_keys,
                grammar=grammar)
        except FeatureUnavailable:
            rt.speech_ok = False
            return None


def _reading(got: Gathered) -> Reading:
    return Reading(got.digits, got.digit_confidence, got.digit_beliefs)
