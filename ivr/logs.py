"""Logging for operators: text for people, or one JSON object per line for a log pipeline.

Every line a call produces carries the call's id, channel and caller: the call handler binds
them once (`bind_call`) in its connection's task, and contextvars carry them into every task and
thread that call starts. Caller numbers are masked (+1555***0001) unless IVR_LOG_PII=1.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
KEPT_HEAD, KEPT_TAIL = 5, 4  # +1555***0001: country and area code, and the last four digits


@dataclass(frozen=True)
class CallFields:
    call_id: str
    channel: str
    caller: str | None


_call: ContextVar[CallFields | None] = ContextVar("ivr_call", default=None)


def bind_call(call_id: str, channel: str, caller: str | None) -> None:
    """Tag every later log line of the current task (and the tasks/threads it starts).
    Each FastAGI connection runs in a task of its own, so this never leaks into another call."""
    _call.set(CallFields(call_id, channel, caller))


def mask_number(number: str) -> str:
    if len(number) <= KEPT_HEAD + KEPT_TAIL:
        return number[:2] + "***" if len(number) > 2 else "***"
    return f"{number[:KEPT_HEAD]}***{number[-KEPT_TAIL:]}"


class JsonFormatter(logging.Formatter):
    """time, level, logger, message (+ call_id, channel, caller during a call, + error)."""

    def __init__(self, *, pii: bool) -> None:
        super().__init__()
        self.pii = pii

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        call = _call.get()
        if call is not None:
            caller = call.caller
            if caller and not self.pii:
                # The number may also be in the text ("lookup for +1555..."): mask it there too.
                caller = mask_number(caller)
                line["message"] = message.replace(call.caller or "", caller)
            line.update(call_id=call.call_id, channel=call.channel, caller=caller)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def setup_logging(level: str, log_format: str = "text", *, pii: bool = False) -> None:
    """Configure the root logger once per process (stderr; systemd's journal collects it)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(pii=pii))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Alembic announces its dialect at INFO on every start; that is noise for users.
    logging.getLogger("alembic").setLevel(logging.WARNING)
