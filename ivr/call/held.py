"""The call's AGI link, with its AudioSocket media kept open between turns when asked to.

Asterisk keeps no DTMF type-ahead: a key that ends while no AGI command runs and no AudioSocket
is connected is thrown away (asterisk-traces README). With one AudioSocket per turn, every
hand-over (0x00, EXEC returns, VERBOSE, next EXEC, connect) and every database write or CRM
lookup between turns is such a moment. Held (`MediaPath.one_session`), the connection stays up
from one media turn to the next, so keys pressed then reach us and wait in the session's queue
for the next gather; it is released only when an AGI command has to run (a variable, a
transfer, a hangup), and the turns' VERBOSE announcements go out then, in order.

A call whose AGI URL asks for `media=turns` (`agi://ivr:4573/ivr?media=turns`; `ivr call` does)
gets one AudioSocket per turn instead, so each turn's console line comes as the turn starts.

Keys left unread when a connection ends (pressed over a prompt nobody could interrupt) are kept
in `typed` for the next gather either way, and a variable the call set is read back from here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from ivr import metrics
from ivr.call.errors import FeatureUnavailable
from ivr.call.media import MediaPath, audiosocket
from ivr.telephony.agi import AgiEnvironment, AgiResult
from ivr.telephony.audiosocket_server import AudioSocketSession

PER_TURN = ("media", "turns")  # the AGI URL's query asks for one AudioSocket per turn


def per_turn_asked(env: AgiEnvironment) -> bool:
    key, value = PER_TURN
    return env.query.get(key) == value


class HoldingLink:
    """An AgiLink that can hold the call's AudioSocket between media turns."""

    def __init__(self, link: Any, path: MediaPath | None) -> None:
        self._link = link
        self.env: AgiEnvironment = link.env
        self._path = path
        self.holds = path is not None and path.one_session and path.streams_prompts \
            and not per_turn_asked(link.env)
        self._stack: contextlib.AsyncExitStack | None = None
        self._session: AudioSocketSession | None = None
        self._last: AudioSocketSession | None = None  # the media a key last came in on
        self._notes: list[tuple[str, ...]] = []  # VERBOSE lines waiting for the AGI to be free
        self._set: dict[str, str] = {}  # variables set by this call
        self.typed: list[str] = []  # keys pressed before the gather that will read them

    @property
    def hung_up(self) -> bool:
        return bool(self._link.hung_up)

    @property
    def held(self) -> bool:
        return self._session is not None

    async def command(self, command: str, *args: str, allow_dead: bool = False) -> AgiResult:
        if command == "GET VARIABLE" and args and args[0] in self._set:
            # a variable this call set itself: no round trip, and the held media stays up
            return AgiResult(200, "1", self._set[args[0]])
        self._acted()
        await self.release()
        result: AgiResult = await self._link.command(command, *args, allow_dead=allow_dead)
        if command == "SET VARIABLE" and len(args) == 2 and result.value == 1:
            self._set[args[0]] = args[1]
        return result

    async def announce(self, *args: str) -> None:
        """A VERBOSE line: now, or when the held media is released (AGI is busy until then)."""
        if self._session is not None:
            self._notes.append(args)
            return
        await self._link.command("VERBOSE", *args, allow_dead=True)

    async def hold_now(self) -> FeatureUnavailable | None:
        """Open the held media now (at answer), so a key pressed during the caller lookup is
        kept; the error when no AudioSocket connects."""
        if self.holds:
            try:
                async with self.turn():
                    pass
            except FeatureUnavailable as err:
                return err
        return None

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[AudioSocketSession]:
        """The media for one turn: the held connection (opened if needed), or a connection of
        its own that ends with the turn."""
        assert self._path is not None
        self._acted()
        if not self.holds:
            async with audiosocket(self, self._path) as session:
                yield session  # unread keys are kept by ended()
            return
        if self._session is None or self._session.closed.is_set():
            await self.release()
            stack = contextlib.AsyncExitStack()
            self._session = await stack.enter_async_context(audiosocket(self._link, self._path))
            self._stack, self._last = stack, self._session  # (opened on the raw link)
        self._session.discard_audio()
        try:
            yield self._session
        except BaseException:
            with contextlib.suppress(Exception):
                await self.release()
            raise

    async def release(self) -> None:
        """End the held connection (0x00, EXEC returns), then send the deferred VERBOSE lines."""
        stack, session = self._stack, self._session
        self._stack = self._session = None
        if stack is not None and session is not None:
            self._keep_unread(session)
            await stack.aclose()
        notes, self._notes = self._notes, []
        for args in notes:
            await self._link.command("VERBOSE", *args, allow_dead=True)

    @property
    def media_hooks(self) -> HoldingLink:
        """What `audiosocket()` tells of the connections it opens on this link."""
        return self

    def opened(self, session: AudioSocketSession) -> None:
        self._last = session

    def ended(self, session: AudioSocketSession) -> None:
        self._acted()
        self._keep_unread(session)  # keys over a spoken text or after a result wait for a gather

    def _acted(self) -> None:
        """The IVR does its next thing: the time since the caller's last key is observed."""
        session = self._last
        if session is not None and session.key_at is not None:
            metrics.KEY_TO_ACTION.observe(time.monotonic() - session.key_at)
            session.key_at = None

    def _keep_unread(self, session: AudioSocketSession) -> None:
        while not session.dtmf.empty():
            self.typed.append(session.dtmf.get_nowait())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.release()
        await self._link.close()
