"""One clock for every prompt being played: the frames of all sessions due at a tick go out from
one timer callback, one socket write per session.

A task per playing session that sleeps to each 20 ms mark costs a timer, a task step and a
drain per frame and per call; with 1 000 calls that is 50 000 wake-ups a second, and it was the
largest share of the server's loop under load (issue 12). Here a play is a job: its frames are
framed once, and the clock writes whatever part of it is due, so a tick costs a socket write
per session. Each job keeps its own schedule from its first frame (sent at once), so a late
tick sends the overdue frames together and the lateness never accumulates.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from ivr.telephony import audiosocket as codec
from ivr.telephony.audiosocket import AudioFormat

WRITE_BACKLOG = 64 * 1024  # bytes unsent to a session before its next frames wait


@functools.lru_cache(maxsize=64)
def framed(pcm: bytes, fmt: AudioFormat) -> tuple[bytes, tuple[int, ...]]:
    """A prompt as the wire carries it: its frames, framed and joined, and where each ends.
    Kept for the prompts played most (the same bytes object from the prompt cache: its hash is
    computed once), so a menu turn does not frame its prompt again for every caller."""
    size = fmt.frame_bytes
    payload = codec.from_pcm8k(pcm, fmt)
    frames = [codec.encode_from_server(codec.audio(payload[i:i + size], fmt.kind))
              for i in range(0, len(payload), size)]
    return b"".join(frames), tuple(itertools.accumulate(len(frame) for frame in frames))


@dataclass(eq=False)
class Job:
    """One play: its frames, framed and joined in `data`, frame i ending at `ends[i]`; and how
    it ends (True: played, False: stopped, an exception: the connection ended)."""

    data: bytes
    ends: tuple[int, ...]
    write: Callable[[bytes], None]
    backlog: Callable[[], int]
    done: asyncio.Future[bool]
    start: float = 0.0
    sent: int = 0  # frames written so far
    count: int = field(init=False)

    def __post_init__(self) -> None:
        self.count = len(self.ends)


class FramePacer:
    """Sends the due frames of every job at each mark of one grid, `interval` seconds apart,
    while any job plays."""

    def __init__(self, interval: float = 0.020) -> None:
        if interval <= 0:
            raise ValueError("the frame interval must be positive")
        self.interval = interval
        self._jobs: set[Job] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._mark = 0.0  # when the next tick is due

    def play(self, job: Job) -> None:
        """Start a job now: its first frame goes out at once, the next at the grid's next mark
        (so a job joins the others' rhythm and never starts with a gap)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._timer is None:
            self._mark = now + self.interval
            self._timer = loop.call_at(self._mark, self._tick)
        job.start = min(now, self._mark - self.interval)
        self._jobs.add(job)
        self._send_due(job, now)

    def finish(self, job: Job, outcome: bool | BaseException) -> None:
        """End a job at once (barge-in, hang-up); its `done` gets the outcome."""
        self._jobs.discard(job)
        if job.done.done():
            return
        if isinstance(outcome, BaseException):
            job.done.set_exception(outcome)
        else:
            job.done.set_result(outcome)

    def _send_due(self, job: Job, now: float) -> None:
        if job.done.done():  # its waiter was cancelled
            self._jobs.discard(job)
            return
        due = min(job.count, int((now - job.start) / self.interval + 1e-3) + 1)
        if due > job.sent and job.backlog() < WRITE_BACKLOG:
            job.write(job.data[job.ends[job.sent - 1] if job.sent else 0:job.ends[due - 1]])
            job.sent = due
        if job.sent >= job.count:
            self.finish(job, True)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for job in list(self._jobs):
            self._send_due(job, now)
        if not self._jobs:
            self._timer = None
            return
        # the grid's next mark; after a stall of more than a frame, a new grid from now (the
        # overdue frames went out just now, a burst of catch-up ticks would send nothing)
        self._mark += self.interval
        if self._mark <= now:
            self._mark = now + self.interval
        self._timer = loop.call_at(self._mark, self._tick)
