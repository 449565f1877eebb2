"""Who may open a FastAGI connection: limits overall, per peer, and per peer still handshaking.

The FastAGI port is reachable by whoever can reach the host, so one stranger must not be able
to exhaust it. Asterisk carries every call of a PBX from one address, so the per-peer limit
on live calls is high by default; the tight one is on connections that have not yet sent their
AGI environment: Asterisk sends it in its first write, so a peer holding many connections in
that state while connection slots run short is an attack (or a broken client). It only applies
under pressure (half the slots taken), because a burst of calls accepted in one turn of the
event loop is briefly "handshaking" all at once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger("ivr.telephony.fastagi")
MAX_PENDING_PER_PEER = 64
REFUSAL_LOG_EVERY = 10.0  # seconds: a flood of refusals is one log line per peer per period
_MAX_LOGGED_PEERS = 1024  # bounds the refusal bookkeeping itself


class PeerLimits:
    """Counts connections per peer; `admit` says why one is refused (and logs it), or None."""

    def __init__(
        self, max_connections: int, max_per_peer: int, max_pending_per_peer: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_connections
        self._max_peer = max_per_peer
        self._max_pending = max_pending_per_peer
        self._clock = clock
        self._live: Counter[str] = Counter()
        self._pending: Counter[str] = Counter()
        self._total = 0
        self._refused: dict[str, tuple[float, int]] = {}

    def admit(self, peer: str) -> str | None:
        """Count a new connection in, or return the reason it is refused."""
        if self._total >= self._max:
            reason = f"{self._max} connections open (IVR_AGI_MAX_CONNECTIONS)"
        elif self._live[peer] >= self._max_peer:
            reason = f"{self._max_peer} connections from it (IVR_AGI_MAX_CONNECTIONS_PER_PEER)"
        elif self._pending[peer] >= self._max_pending and self._total * 2 >= self._max:
            reason = f"{self._max_pending} of its connections have sent no AGI environment yet"
        else:
            self._total += 1
            self._live[peer] += 1
            self._pending[peer] += 1
            return None
        self.complain(peer, f"refused a connection from {peer}: {reason}")
        return reason

    def started(self, peer: str) -> None:
        """The connection sent its environment (or failed to): no longer handshaking."""
        _decrement(self._pending, peer)

    def leave(self, peer: str) -> None:
        self._total -= 1
        _decrement(self._live, peer)

    def complain(self, peer: str, message: str) -> None:
        """Log a warning about a peer, at most once per period (then how many were quiet)."""
        now = self._clock()
        last, quiet = self._refused.get(peer, (float("-inf"), 0))
        if now - last < REFUSAL_LOG_EVERY:
            self._refused[peer] = (last, quiet + 1)
            return
        if len(self._refused) >= _MAX_LOGGED_PEERS:
            self._refused.clear()
        self._refused[peer] = (now, 0)
        more = f" ({quiet} more from it since the last notice)" if quiet else ""
        log.warning("FastAGI %s%s", message, more)


def _decrement(counter: Counter[str], peer: str) -> None:
    counter[peer] -= 1
    if counter[peer] <= 0:
        del counter[peer]
