"""Spread load.py's callers over several generator processes (`load.py --procs K`).

One Python process cannot keep 1 000 real-time calls (20 ms frames each way) fed on its own: its
loop fell behind by up to 0.9 s and the callers' timings took that in. Children are forked after
the server is up (they inherit the caller plan and the shared counter, nothing is pickled on the
way in), run their share on their own event loop, and send their raw results back through a
queue; the parent runs share 0 itself and merges them.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import random
import traceback
from collections.abc import Callable
from typing import Any

_FORK = multiprocessing.get_context("fork")


class SharedCount:
    """Calls in flight over every generator process (for "at once" and the memory per call)."""

    def __init__(self) -> None:
        self._value = _FORK.Value("i", 0)

    def add(self, delta: int) -> None:
        with self._value.get_lock():
            self._value.value += delta

    @property
    def value(self) -> int:
        return int(self._value.value)


ShareResult = tuple[list[Any], float]  # (a share's Result objects, its loop's worst lag in s)


def _child(run_share: Callable[[int], ShareResult], share: int,
           queue: multiprocessing.queues.Queue[Any]) -> None:
    random.seed()  # forked children would otherwise draw the same caller numbers
    try:
        results, lag = run_share(share)
        queue.put((share, results, lag, ""))
    except BaseException:  # a benchmark reports, never hangs its parent
        queue.put((share, [], 0.0, traceback.format_exc()))


def run_shares(procs: int, run_share: Callable[[int], ShareResult],
               wait_s: float) -> tuple[list[Any], list[float], list[str]]:
    """Run shares 1..procs-1 in forked children and share 0 here; merged results, every
    share's worst loop lag, and the failures of children (tracebacks)."""
    queue: multiprocessing.queues.Queue[Any] = _FORK.Queue()
    children = [_FORK.Process(target=_child, args=(run_share, share, queue), daemon=True)
                for share in range(1, procs)]
    for child in children:
        child.start()
    results, lag = run_share(0)
    lags, failures = [lag], []
    for _ in children:  # read before join: a child with a big result blocks until it is read
        try:
            _, theirs, their_lag, failure = queue.get(timeout=wait_s)
        except Exception as err:  # queue.Empty: a child is stuck or died without a word
            failures.append(f"a generator process sent nothing: {type(err).__name__}")
            break
        results += theirs
        lags.append(their_lag)
        if failure:
            failures.append(failure)
    for child in children:
        child.join(10)
        if child.is_alive():
            child.kill()
    return results, lags, failures
