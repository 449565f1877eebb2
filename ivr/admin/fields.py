"""Bounded field types shared by the admin API's paths, queries and bodies.

Every value a stranger sends has a limit the database can hold, so a bad value is a 422 naming
the field instead of a driver error (an id past PostgreSQL's `integer`, NUL in `text`, a string
longer than its `varchar`). The limits are also in the OpenAPI document, so clients (and the
schemathesis run in the tests) know them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, WithJsonSchema

from ivr.store.domain import DB_INT_MAX

# Documents what `refuse_bad_text` enforces: no NUL. (Lone surrogates are refused too, but a
# surrogate range is not a pattern every regex engine takes, and UTF-8 JSON cannot carry one.)
TEXT_PATTERN = "^[^\\x00]*$"
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
MONEY_LIMIT = Decimal(10) ** 10
MONEY_PATTERN = r"^-?\d{1,10}(\.\d{1,2})?$"
INSTANT_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}[Tt ]"


def refuse_bad_text(value: str) -> str:
    """Refuse what no database column can store: PostgreSQL refuses NUL in text, and a lone
    surrogate cannot be encoded as UTF-8 at all."""
    bad = BAD_TEXT.search(value)
    if bad is None:
        return value
    if bad[0] == "\x00":
        raise ValueError(f"contains a NUL character (U+0000) at position {bad.start()}")
    raise ValueError(f"contains a lone surrogate (U+{ord(bad[0]):04X}) at position "
                     f"{bad.start()}: not valid Unicode text")


def _no_bool(value: object) -> object:
    """JSON `true` is not the number 1 (pydantic's lax mode would take it as one)."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not true or false")
    return value


def _iso_instant(value: object) -> object:
    """Only ISO 8601 text (or a datetime) is an instant; lax pydantic would read a number as
    seconds since 1970. Years 1970-2999: year 1 at +00:01 is year 0 in UTC, which crashed."""
    if isinstance(value, datetime) or (isinstance(value, str)
                                       and re.match(INSTANT_PATTERN, value)):
        return value
    raise ValueError("must be an ISO 8601 date-time from 1970 to 2999 with an offset, "
                     "e.g. 2026-03-10T14:00:00Z")


def _iso_date(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str)
                                   and re.fullmatch(r"\d{4}-\d\d-\d\d", value)):
        return value
    raise ValueError("must be an ISO 8601 date, e.g. 2026-12-25")


def _money_text(value: object) -> object:
    """Numbers may come as JSON strings too, but only in plain decimal notation."""
    if isinstance(value, str) and not re.fullmatch(MONEY_PATTERN, value.strip()):
        raise ValueError("must be a plain decimal number such as 84.10")
    return value


# Text for a free-form field: the caller adds Field(max_length=...) matching the column.
Text = Annotated[str, AfterValidator(refuse_bad_text),
                 Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# A row id or a version number: a positive PostgreSQL `integer` (SQLite holds the same range).
Id = Annotated[int, Field(ge=1, le=DB_INT_MAX), BeforeValidator(_no_bool)]
# An offset into a listing: the same range, from 0.
Offset = Annotated[int, Field(ge=0, le=DB_INT_MAX), BeforeValidator(_no_bool)]
# A count held in an `integer` column (priority, channels...).
Count = Annotated[int, Field(ge=0, le=DB_INT_MAX), BeforeValidator(_no_bool)]
# A small integer setting (attempts, caps): the caller adds its own bounds.
Small = Annotated[int, BeforeValidator(_no_bool)]
# A calendar date: ISO 8601 text only (lax pydantic would read a number as a timestamp).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# An instant: ISO 8601 with a UTC offset.
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant), WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN})]
# An amount of money: finite, under 10^10 either way, at most 2 decimals when sent as a string.
Money = Annotated[
    Decimal, BeforeValidator(_money_text),
    Field(gt=-MONEY_LIMIT, lt=MONEY_LIMIT, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [
        {"type": "number", "exclusiveMinimum": -float(MONEY_LIMIT),
         "exclusiveMaximum": float(MONEY_LIMIT)},
        {"type": "string", "pattern": MONEY_PATTERN}]}),
]  # fmt: skip
# A limit on an amount (a bill limit): the same, and never negative.
Limit = Annotated[
    Decimal, BeforeValidator(_money_text),
    Field(ge=0, lt=MONEY_LIMIT, allow_inf_nan=False),
    WithJsonSchema({"anyOf": [
        {"type": "number", "minimum": 0, "exclusiveMaximum": float(MONEY_LIMIT)},
        {"type": "string", "pattern": MONEY_PATTERN.replace("-?", "")}]}),
]  # fmt: skip
