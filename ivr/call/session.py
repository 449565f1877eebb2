"""The Call: the one object flows use to talk to a caller, whatever transport carried the call.

Flows never see AGI strings. Every method may raise CallHangup (the caller hung up); the
flow lets it unwind and its `finally` blocks write the interaction. The values it takes and
gives (AgiLink, Gathered, Turn...) live in values.py and are re-exported here.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ivr.call.errors import FeatureUnavailable
from ivr.call.values import ALL_KEYS as ALL_KEYS
from ivr.call.values import HEARD as HEARD
from ivr.call.values import PLAYS as PLAYS
from ivr.call.values import SAID as SAID
from ivr.call.values import AgiLink as AgiLink
from ivr.call.values import Gathered as Gathered
from ivr.call.values import GatherMode as GatherMode
from ivr.call.values import Recording as Recording
from ivr.call.values import Turn as Turn

if TYPE_CHECKING:
    from ivr.call.held import HoldingLink
    from ivr.call.media import MediaPath
    from ivr.speech.grammar import Grammar
    from ivr.speech.listen import Heard

log = logging.getLogger(__name__)
VERBOSE_LEVEL = "3"
NextKey = Callable[[float], Awaitable[str | None]]
MediaTurn = Callable[[Any], Awaitable[Any]]  # what runs on one AudioSocket connection


class Call:
    def __init__(self, link: AgiLink, *, media: MediaPath | None = None) -> None:
        """`media`: how to reach our AudioSocket server and the speech services; without it
        speech gathers and `say` raise FeatureUnavailable (flows then use keys and prompts)."""
        self._held: HoldingLink | None = None
        if media is not None:
            from ivr.call.held import HoldingLink

            self._held = link = HoldingLink(link, media)  # keys between turns kept (held.py)
        self._link = link
        self._typed: list[str] = self._held.typed if self._held is not None else []
        self._media = media
        self._streams = media is not None and media.streams_prompts  # prompts over AudioSocket
        self._started = time.monotonic()
        self.turns: list[Turn] = []
        self.transfer_to: str | None = None

    @property
    def caller(self) -> str | None:
        return self._link.env.caller_number

    @property
    def dnis(self) -> str | None:
        env = self._link.env
        return env.dialed_number or (env.args[0] if env.args else None) or env.extension

    @property
    def channel(self) -> str:
        return self._link.env.channel

    @property
    def hung_up(self) -> bool:
        return self._link.hung_up

    def _note(self, kind: str, **detail: Any) -> None:
        self.turns.append(Turn(round(time.monotonic() - self._started, 3), kind, detail))

    async def answer(self) -> None:
        await self._link.command("ANSWER")
        self._note("answer")
        if self._streams and self._held is not None and (err := await self._held.hold_now()):
            self._no_streams(err)

    async def play(self, prompt: str, *, interrupt: str = "") -> str | None:
        """Play a prompt; returns the key that interrupted it (only keys in `interrupt`).

        With an AudioSocket media path a prompt rendered here streams over it, so nothing has
        to be on the Asterisk host; otherwise (keypad path, EAGI, a prompt we do not have)
        Asterisk plays its own file with STREAM FILE. A file Asterisk cannot find is logged
        and skipped: the call goes on as if it had played."""
        from ivr.call.media import play_until_key

        audio = await self._streamed(prompt)
        if audio is not None:
            streamed, key = await self._over_media(
                PLAYS, prompt, lambda session: play_until_key(session, audio, interrupt))
            if streamed:
                self._note("play", prompt=prompt, interrupted_by=key)
                return key  # type: ignore[no-any-return]
        result = await self._link.command("STREAM FILE", prompt, interrupt)
        if result.value == -1:
            self._missing(prompt)
            return None
        self._note("play", prompt=prompt, interrupted_by=result.digit)
        return result.digit

    async def _streamed(self, prompt: str) -> bytes | None:
        """The prompt's audio when it goes over AudioSocket; None when Asterisk plays it."""
        if not self._streams:
            return None
        audio: bytes | None = await self._speech().prompt_audio(prompt)
        return audio

    async def _over_media(self, label: str, what: str, turn: MediaTurn) -> tuple[bool, Any]:
        """Run `turn` on the call's AudioSocket, announced as `label: what`: (True, its result),
        or (False, None) when none connects (Asterisk plays its own copies from then on)."""
        assert self._held is not None
        await self._verbose(label, what)
        try:
            async with self._held.turn() as session:
                return True, await turn(session)
        except FeatureUnavailable as err:
            self._no_streams(err)
            return False, None

    def _no_streams(self, err: FeatureUnavailable) -> None:
        self._streams = False  # one wait for a connection that does not come, not one each
        log.warning("call %s: %s; prompts are played from the Asterisk host from now on",
                    self.channel, err)

    def _missing(self, prompt: str) -> None:
        self._note("play", prompt=prompt, missing=True)
        log.warning("call %s: prompt %r is missing on the Asterisk host (copy prompts/ to its "
                    "sounds folder, or give calls the AudioSocket path); going on without it",
                    self.channel, prompt)

    @property
    def language(self) -> str:
        return self._link.env.language or "en"

    def _speech(self) -> Any:
        if self._media is None:
            raise FeatureUnavailable("no media path (AudioSocket) for this call")
        from ivr.call.media import SpeechTurn

        return SpeechTurn(self._link, self._media, self.language)

    async def say(self, text: str) -> None:
        """Speak text (synthesized, streamed over AudioSocket); FeatureUnavailable without."""
        speech = self._speech()
        await self._verbose(SAID, text)
        await speech.say(text)
        self._note("say", text=text)

    async def _verbose(self, label: str, text: str) -> None:
        """A line on the Asterisk console (verbose level 3) and in `ivr call` transcripts: the
        audio alone does not show what was said or understood."""
        line = " ".join(f"{label}: {text}".split())  # one line: CR/LF would end the command
        if self._held is not None:
            await self._held.announce(line, VERBOSE_LEVEL)  # deferred while media is held
        else:
            await self._link.command("VERBOSE", line, VERBOSE_LEVEL, allow_dead=True)

    async def say_digits(self, digits: str, *, interrupt: str = "") -> str | None:
        """Digits one by one: spoken by TTS over AudioSocket when the call has it, else with
        Asterisk's own digit sounds (SAY DIGITS)."""
        from ivr.call.media import play_until_key

        if self._streams:
            try:
                pcm = await self._speech().synthesize(" ".join(digits))
            except FeatureUnavailable:
                pcm = None
            if pcm is not None:
                streamed, key = await self._over_media(
                    SAID, " ".join(digits), lambda session: play_until_key(session, pcm, interrupt))
                if streamed:
                    self._note("say_digits", digits=digits)
                    return key  # type: ignore[no-any-return]
        result = await self._link.command("SAY DIGITS", digits, interrupt)
        self._note("say_digits", digits=digits)
        return result.digit

    async def wait_for_key(self, timeout: float) -> str | None:
        result = await self._link.command("WAIT FOR DIGIT", str(int(timeout * 1000)))
        return result.digit

    async def _typed_or_wait(self, timeout: float) -> str | None:
        return self._typed.pop(0) if self._typed else await self.wait_for_key(timeout)

    async def gather(
        self,
        *,
        prompt: str | None = None,
        mode: GatherMode = "dtmf",
        max_digits: int = 1,
        timeout: float = 5.0,
        inter_digit_timeout: float = 3.0,
        finish_on_key: str = "#",
        barge_in: bool = True,
        phrases: Sequence[str] | None = None,
        text: str | None = None,
        answer_keys: str = "",
        grammar: Grammar | None = None,
    ) -> Gathered:
        """Collect keys: the first within `timeout` of the prompt's end, the next within
        `inter_digit_timeout`; ends at `max_digits` or `finish_on_key`.

        In "speech"/"both" mode keys are accepted alongside speech: `phrases` (a menu's
        options and synonyms) make a grammar, otherwise several digits are listened for as
        spoken digits and one as free speech; `grammar` says what to listen for instead (a
        code read back: digits or yes/no). Raises FeatureUnavailable without a media path
        or a recognizer for the call's language."""
        if self._typed:  # pressed before this question was asked: that is the answer
            return await self._keys(self._typed.pop(0), self._typed_or_wait, max_digits,
                                    inter_digit_timeout, finish_on_key)
        if mode != "dtmf":
            return await self._gather_speech(
                prompt, max_digits, timeout, inter_digit_timeout, finish_on_key, barge_in,
                phrases, text, answer_keys, grammar)
        audio = await self._streamed(prompt) if prompt else None
        if prompt and audio is not None:
            keyed = functools.partial(self._keyed, prompt=prompt, audio=audio, timeout=timeout,
                                      barge_in=barge_in,
                                      rest=(max_digits, inter_digit_timeout, finish_on_key))
            streamed, got = await self._over_media(PLAYS, prompt, keyed)
            if streamed:
                return got  # type: ignore[no-any-return]
        if prompt and barge_in:
            key = await self._ask(prompt, timeout)
        else:
            if prompt:
                await self.play(prompt)
            key = await self.wait_for_key(timeout)
        return await self._keys(key, self.wait_for_key, max_digits, inter_digit_timeout,
                                finish_on_key)

    async def _keyed(self, session: Any, prompt: str, audio: bytes, timeout: float,
                     barge_in: bool, rest: tuple[int, float, str]) -> Gathered:
        """A keypad gather on one AudioSocket turn: the prompt, then the keys on the same
        connection (no gap in which a key could be lost)."""
        from ivr.call.media import play_until_key

        key = await play_until_key(session, audio, ALL_KEYS if barge_in else "")
        self._note("play", prompt=prompt, interrupted_by=key)
        if key is None:
            key = await session.get_digit(timeout)
        return await self._keys(key, session.get_digit, *rest)

    async def _ask(self, prompt: str, timeout: float) -> str | None:
        """The prompt and the first key in ONE command (GET OPTION): Asterisk keeps no
        type-ahead, so a key pressed between a STREAM FILE and the next WAIT FOR DIGIT would
        be lost; with GET OPTION the wait starts as the prompt ends."""
        result = await self._link.command("GET OPTION", prompt, ALL_KEYS, str(int(timeout * 1000)))
        if result.value == -1:
            self._missing(prompt)
            return await self.wait_for_key(timeout)
        self._note("play", prompt=prompt, interrupted_by=result.digit)
        return result.digit

    async def _gather_speech(
        self, prompt: str | None, max_digits: int, timeout: float, inter_digit_timeout: float,
        finish_on_key: str, barge_in: bool, phrases: Sequence[str] | None,
        text: str | None = None, answer_keys: str = "", grammar: Grammar | None = None,
    ) -> Gathered:  # fmt: skip
        from ivr.call.media import grammar_for
        from ivr.speech.listen import ListenOptions

        turn = self._speech()
        grammar = grammar or grammar_for(self.language, phrases, max_digits)
        await turn.recognizer(grammar)  # no model: FeatureUnavailable before anything plays
        audio = await turn.synthesize(text) if text else await turn.prompt_audio(prompt)
        if text:  # a sentence made for this turn (a code read back): keys and speech barge in
            await self._verbose(SAID, text)
            self._note("say", text=text)
        if prompt is not None and audio is not None:
            await self._verbose(PLAYS, prompt)
        if prompt is not None and audio is None:
            # not rendered here: Asterisk plays it (keys interrupt), then we listen
            key = await self.play(prompt, interrupt=ALL_KEYS if barge_in else "")
            if key is not None:
                return await self._keys(key, self.wait_for_key, max_digits,
                                        inter_digit_timeout, finish_on_key)
        opts = ListenOptions(timeout=timeout, barge_in=barge_in, max_digits=max_digits,
                             inter_digit_timeout=inter_digit_timeout,
                             finish_on_key=finish_on_key, endpoint=self._media_endpoint(),
                             answer_keys=answer_keys)
        heard = await turn.gather(audio, grammar, opts)
        return await self._heard(self._from_heard(heard))

    def _media_endpoint(self) -> Any:
        assert self._media is not None
        return self._media.endpoint

    async def _keys(
        self, key: str | None, next_key: NextKey, max_digits: int, inter_digit_timeout: float,
        finish_on_key: str,
    ) -> Gathered:  # fmt: skip
        """The rest of a keypad entry after its first key (None: nothing was pressed)."""
        digits = ""
        while key is not None:
            if key == finish_on_key:
                return self._gathered(digits, "finish_key" if digits else "empty")
            digits += key
            if len(digits) >= max_digits:
                return self._gathered(digits, "max_digits")
            key = await next_key(inter_digit_timeout)
        return self._gathered(digits, "timeout")

    def _from_heard(self, heard: Heard) -> Gathered:
        if heard.kind == "dtmf":
            reason = heard.reason if heard.digits or heard.reason != "finish_key" else "empty"
            return self._gathered(heard.digits, reason)
        if heard.kind == "timeout":
            return self._gathered("", "timeout")
        text = heard.choice or heard.text
        digits = heard.digits if not heard.choice else ""
        result = heard.result if heard.result is not None and digits else None
        got = Gathered(digits, "speech" if text else "empty", "speech", text, heard.confidence,
                       result.digit_confidence if result else (),
                       result.digit_beliefs if result else ())
        self._note("gather", mode="speech", text=text, digits=digits,
                   confidence=heard.confidence, reason=heard.reason, barge_in=heard.barged_in,
                   latency_ms=heard.latency_ms)
        return got

    async def _heard(self, got: Gathered) -> Gathered:
        if got.mode == "speech":
            what = got.text or got.digits or "(nothing)"
            await self._verbose(HEARD, f"{what} ({got.confidence:.2f})")
        return got

    def _gathered(self, digits: str, reason: Any) -> Gathered:
        self._note("gather", digits=digits, reason=reason)
        return Gathered(digits, reason)

    async def record(
        self, path: str, *, fmt: str = "wav", escape: str = "#", max_seconds: float = 60.0,
        silence_seconds: float = 3.0, beep: bool = True,
    ) -> Recording:
        args = [path, fmt, escape, str(int(max_seconds * 1000))]
        args += ["BEEP"] if beep else []
        args += [f"s={int(silence_seconds)}"] if silence_seconds else []
        result = await self._link.command("RECORD FILE", *args)
        ended: Literal["silence", "timeout", "key", "hangup"] = "silence"
        if result.data == "dtmf":
            ended = "key"
        elif result.timed_out and result.value == 0:
            ended = "timeout"
        duration = (result.endpos or 0) // 8  # samples at 8 kHz -> ms
        self._note("record", path=path, ended_by=ended, duration_ms=duration)
        return Recording(path, duration, ended)

    async def get_var(self, name: str) -> str | None:
        result = await self._link.command("GET VARIABLE", name, allow_dead=True)
        return result.data if result.value == 1 else None

    async def set_var(self, name: str, value: str) -> None:
        await self._link.command("SET VARIABLE", name, value, allow_dead=True)

    async def transfer(self, destination: str, context_vars: dict[str, str] | None = None) -> None:
        """Hand the caller to an agent: the dialplan after AGI() routes on IVR_TRANSFER_TO and
        finds what we learned in the IVR_* variables, so nobody asks twice."""
        for name, value in (context_vars or {}).items():
            await self.set_var(f"IVR_{name.upper()}", value)
        await self.set_var("IVR_TRANSFER_TO", destination)
        self.transfer_to = destination
        self._note("transfer", destination=destination, context=dict(context_vars or {}))
        await self._link.close()

    async def hangup(self) -> None:
        if not self._link.hung_up:
            await self._link.command("HANGUP")
            self._note("hangup", by="ivr")
        await self._link.close()

    def duration_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)
