"""Prometheus metrics (served at /metrics): one module-level object per thing we count, so the
code where it happens says `metrics.X.observe(...)` and nothing else.

Latency buckets run from 1 ms to 10 s: key -> action targets are 150 ms (p95) and 400 ms (p99),
speech results 250 ms, and the CRM's budget defaults to 300 ms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

LATENCY = (.001, .0025, .005, .01, .025, .05, .075, .1, .15, .2, .25, .3, .4, .5, .75, 1., 2.5,
           5., 10.)

ACTIVE_CALLS = Gauge("ivr_active_calls", "calls being answered now")
CALLS = Counter("ivr_calls_total", "calls ended, by outcome", ["outcome"])
KEY_TO_ACTION = Histogram("ivr_key_to_action_seconds",
                          "from a caller's key reaching us to the IVR's next action",
                          buckets=LATENCY)
SPEECH_RESULT = Histogram("ivr_speech_result_seconds",
                          "from the end of a caller's speech to its recognized result",
                          buckets=LATENCY)
AUDIOSOCKET_ACTIVE = Gauge("ivr_audiosocket_sessions", "AudioSocket sessions connected now")
AUDIOSOCKET_SESSIONS = Counter("ivr_audiosocket_sessions_opened", "AudioSocket sessions opened")
DB_SECONDS = Histogram("ivr_db_statement_seconds", "database statement time", buckets=LATENCY)
CRM_SECONDS = Histogram("ivr_crm_lookup_seconds", "caller lookup time (CRM or store)",
                        buckets=LATENCY)
ORIGINATES = Counter("ivr_dialer_originates_total", "outbound calls the dialer originated")
DIAL_OUTCOMES = Counter("ivr_dialer_outcomes_total", "outbound attempts ended, by outcome",
                        ["outcome"])
ERRORS = Counter("ivr_errors_total", "log records at ERROR or above, by logger", ["logger"])
LOOP_LAG = Histogram("ivr_event_loop_lag_seconds",
                     "how late a timer on the event loop fires (every call waits as long)",
                     buckets=LATENCY)
LAG_PROBE_S = 0.25


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


class ErrorCounter(logging.Handler):
    """Counts ERROR records (installed on the root logger by `ivr serve`)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)

    def emit(self, record: logging.LogRecord) -> None:
        ERRORS.labels(record.name.split(".")[1] if record.name.startswith("ivr.") else
                      record.name.split(".")[0]).inc()


def count_errors() -> None:
    root = logging.getLogger()
    if not any(isinstance(h, ErrorCounter) for h in root.handlers):
        root.addHandler(ErrorCounter())


def time_statements(engine: Any) -> None:
    """Observe every statement's time on a SQLAlchemy engine (its event hooks: the store
    itself knows nothing of metrics)."""
    from sqlalchemy import event

    if getattr(engine, "_ivr_timed", False):
        return
    engine._ivr_timed = True

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, cursor: Any, statement: Any, params: Any, context: Any,
               many: Any) -> None:
        conn.info.setdefault("ivr_started", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn: Any, cursor: Any, statement: Any, params: Any, context: Any,
             many: Any) -> None:
        started = conn.info.get("ivr_started")
        if started:
            DB_SECONDS.observe(time.perf_counter() - started.pop())


def watch_loop() -> asyncio.Task[None]:
    """Observe LOOP_LAG every LAG_PROBE_S from a task on the running loop (cancel it to stop):
    a busy loop delays every call's next action by as much, whatever the call is doing."""

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            LOOP_LAG.observe(max(0.0, loop.time() - due))

    return asyncio.create_task(probe(), name="loop-lag")
