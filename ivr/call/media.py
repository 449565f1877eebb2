"""Audio routing between a call and speech: AudioSocket per turn (or EAGI's fd 3 when ivr runs
as an EAGI script, see `eagi_media`), prompts out, speech and keys in.

While the FastAGI session runs `EXEC AudioSocket <uuid>,<host:port>` (which blocks until the
media session ends), the turn streams over the AudioSocket session; sending 0x00 ends the
session and returns control to AGI. Anything that keeps speech from working raises
FeatureUnavailable, and the flow engine falls back to the keypad.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr import metrics
from ivr.call.eagi_media import EagiSession, eagi_turn
from ivr.call.errors import FeatureUnavailable
from ivr.speech import prompts as catalog
from ivr.speech.endpoint import EndpointConfig
from ivr.speech.errors import SpeechError
from ivr.speech.grammar import Grammar
from ivr.speech.listen import Heard, ListenOptions, MediaChannel, listen
from ivr.speech.recognizer import ModelPool, Recognizer
from ivr.speech.tts import Tts
from ivr.telephony.audiosocket_server import AudioSocketServer, AudioSocketSession

log = logging.getLogger(__name__)
CONFIRM = {"en": "Did you say {}?", "ru": "Вы сказали {}?"}
CONFIRM_KEYS = {"1": "yes", "2": "no"}


@dataclass
class MediaPath:
    """What a Call needs to route audio: our AudioSocket server and the host:port Asterisk dials
    for it (or, under EAGI, the call's fd-3 session), and the shared speech services (one per
    process)."""

    server: AudioSocketServer | None
    advertise: str
    pool: ModelPool | None = None
    tts: Tts | None = None
    prompts_dir: Path | None = None
    connect_timeout: float = 5.0
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    confirm_below: float = 0.0  # confidence under which a menu choice is confirmed
    eagi: EagiSession | None = None
    # Hold the AudioSocket from answer and between turns (see ivr/call/held.py). `ivr serve`
    # sets it from IVR_MEDIA_ONE_SESSION (on by default); off here for rigs that follow the
    # per-turn console lines.
    one_session: bool = False
    # How long a speech turn waits for its engine while `preload` runs after start-up (calls
    # are taken at once; keys work meanwhile); past it the turn falls back to the keypad.
    model_wait: float = 30.0
    loading: bool = False  # `preload` is running (for /api/ready)

    @property
    def streams_prompts(self) -> bool:
        """Prompts rendered here go to the caller over AudioSocket, so nothing has to be on the
        Asterisk host; under EAGI (and without a media path) Asterisk plays its own files."""
        return self.server is not None and self.eagi is None and self.prompts_dir is not None

    @classmethod
    def from_settings(cls, server: AudioSocketServer | None, advertise: str, settings: Any,
                      eagi: EagiSession | None = None) -> MediaPath:
        from ivr.speech import models

        silence_ms = int(getattr(settings, "asr_trailing_silence_ms", 600))
        return cls(
            server, advertise, models.make_pool(settings),
            Tts(models.cache_dir(settings) / "tts"), Path(settings.prompts_dir),
            endpoint=EndpointConfig(trailing_silence_ms=silence_ms),
            confirm_below=float(getattr(settings, "asr_confirm_below", 0.0)), eagi=eagi,
            one_session=bool(getattr(settings, "media_one_session", False)),
        )

    async def preload(self, languages: Sequence[str]) -> list[str]:
        """Load each language's engine now (not on the first caller); returns one line per
        language that has none, naming the path and the fix, for the server to log."""
        if self.pool is None:
            return ["speech: no recognizer configured; speech menus use the keypad"]
        problems = []
        self.loading = True
        try:
            for language in languages:
                try:
                    engine = await self.pool.get(language)
                except SpeechError as err:
                    problems.append(f"speech ({language}): {err}")
                    continue
                log.info("speech (%s): %s ready", language, engine.name)
        finally:
            self.loading = False
        return problems


def media_turn(link: Any, path: MediaPath) -> contextlib.AbstractAsyncContextManager[Any]:
    """The turn's media channel: the EAGI session when there is one, else the call's AudioSocket
    (through its link when that keeps keys between turns, see held.py)."""
    if path.eagi is not None:
        return eagi_turn(path.eagi)
    holder = getattr(link, "media_hooks", None)
    return holder.turn() if holder is not None else audiosocket(link, path)


@contextlib.asynccontextmanager
async def audiosocket(link: Any, path: MediaPath) -> AsyncIterator[AudioSocketSession]:
    """Open the call's AudioSocket for one turn; on exit send 0x00 and let EXEC return."""
    if path.server is None:
        raise FeatureUnavailable("no AudioSocket server for this call")
    session_id = uuid.uuid4()
    app = asyncio.ensure_future(
        link.command("EXEC", "AudioSocket", f"{session_id},{path.advertise}"))
    waiter = asyncio.ensure_future(path.server.wait_session(session_id, path.connect_timeout))
    await asyncio.wait({app, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done() or waiter.exception() is not None:
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        if app.done():
            result = app.result()  # CallHangup surfaces here
            raise FeatureUnavailable(f"AudioSocket ended before connecting ({result.text})")
        await _abandon(app)
        raise FeatureUnavailable(f"no AudioSocket connection to {path.advertise}")
    session = waiter.result()
    metrics.AUDIOSOCKET_SESSIONS.inc()
    metrics.AUDIOSOCKET_ACTIVE.inc()
    hooks = getattr(link, "media_hooks", None)  # the call's link times key -> next action
    if hooks is not None:
        hooks.opened(session)
    try:
        yield session
    finally:
        metrics.AUDIOSOCKET_ACTIVE.dec()
        if hooks is not None:
            hooks.ended(session)  # the prompt stops, the session ends: the caller hears that
        await session.hangup()
        await app  # returns once Asterisk sees 0x00; CallHangup if the caller left


async def _abandon(app: asyncio.Future[Any]) -> None:
    # EXEC cannot be taken back; wait for it briefly so the AGI link stays in step
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            await asyncio.shield(app)


async def play_until_key(channel: MediaChannel, pcm: bytes, interrupt: str) -> str | None:
    """Play `pcm`; the first key in `interrupt` stops it and is returned (other keys are
    dropped, as STREAM FILE drops keys that are not its escape digits)."""
    if not interrupt:
        await channel.play(pcm)
        return None
    play = asyncio.ensure_future(channel.play(pcm))
    try:
        while True:
            key = asyncio.ensure_future(channel.get_digit(None))
            try:
                await asyncio.wait({play, key}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not key.done():
                    key.cancel()
                    await asyncio.gather(key, return_exceptions=True)
            pressed = key.result() if key.done() and not key.cancelled() else None
            if pressed is not None and pressed in interrupt:
                channel.stop_playback()
                return pressed
            if play.done():
                play.result()  # a hangup during the prompt surfaces here
                return None
    finally:
        if not play.done():
            channel.stop_playback()
        await asyncio.gather(play, return_exceptions=True)


def grammar_for(language: str, phrases: Sequence[str] | None, max_digits: int) -> Grammar:
    """A menu's phrases, digits for multi-digit entries, else free speech."""
    if phrases:
        return Grammar.from_choices({p: [p] for p in phrases}, language)
    if max_digits > 1:
        return Grammar.digits(language, expected=max_digits)
    return Grammar.free(language)


class SpeechTurn:
    """Runs speech gathers and spoken text for one call over its media path."""

    def __init__(self, link: Any, path: MediaPath, language: str) -> None:
        self.link, self.path, self.language = link, path, language or "en"

    async def recognizer(self, grammar: Grammar) -> Recognizer:
        if self.path.pool is None:
            raise FeatureUnavailable("no speech recognizer configured")
        try:
            async with asyncio.timeout(self.path.model_wait):
                engine = await self.path.pool.get(self.language)
        except SpeechError as err:
            raise FeatureUnavailable(str(err)) from None
        except TimeoutError:
            raise FeatureUnavailable(
                f"speech ({self.language}): engine still loading after "
                f"{self.path.model_wait:.0f} s") from None
        return Recognizer(engine, grammar)

    async def prompt_audio(self, prompt: str | None) -> bytes | None:
        if prompt is None or self.path.prompts_dir is None:
            return None
        found = catalog.prompt_file(self.path.prompts_dir, prompt, self.language)
        if found is None:
            return None
        from ivr.speech.wav_cache import read_wav_cached

        return await read_wav_cached(found)

    async def synthesize(self, text: str) -> bytes:
        if self.path.tts is None:
            raise FeatureUnavailable("no text-to-speech configured")
        try:
            return await self.path.tts.synthesize_async(text, self.language)
        except SpeechError as err:
            raise FeatureUnavailable(str(err)) from None

    async def say(self, text: str) -> None:
        pcm = await self.synthesize(text)
        async with media_turn(self.link, self.path) as session:
            await session.play(pcm)

    async def gather(self, prompt_pcm: bytes | None, grammar: Grammar,
                     opts: ListenOptions) -> Heard:
        rec = await self.recognizer(grammar)
        async with media_turn(self.link, self.path) as session:
            heard = await listen(session, rec, prompt_pcm, opts)
            if heard.kind == "speech":
                metrics.SPEECH_RESULT.observe(heard.latency_ms / 1000)
            if self._needs_confirmation(heard, grammar):
                heard = await self._confirm(session, heard)
        return heard

    def _needs_confirmation(self, heard: Heard, grammar: Grammar) -> bool:
        # a yes/no said to a code read back is weighed by the code's dialogue, not asked about
        return heard.kind == "speech" and heard.choice is not None \
            and grammar.kind != "digits" and heard.confidence < self.path.confirm_below

    async def _confirm(self, session: MediaChannel, heard: Heard) -> Heard:
        question = CONFIRM.get(self.language, CONFIRM["en"]).format(heard.text)
        pcm = await self.synthesize(question)
        rec = await self.recognizer(Grammar.yesno(self.language))
        answer = await listen(session, rec, pcm, ListenOptions(endpoint=self.path.endpoint))
        said = CONFIRM_KEYS.get(answer.digits) if answer.kind == "dtmf" else answer.choice
        log.info("confirmation of %r: %s", heard.text, said)
        return heard if said == "yes" else Heard("speech", "rejected", barged_in=heard.barged_in)
