"""`{placeholders}` in texts: find them (for validation) and fill them (at run time)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def placeholders(text: str) -> list[str]:
    return [m.group(1).strip() for m in PLACEHOLDER.finditer(text)]


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """`customer.name` -> data["customer"]["name"]; None when any part is missing."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def render(text: str, data: Mapping[str, Any]) -> str:
    """Fill every placeholder; a value nobody set says nothing rather than '{name}'."""

    def fill(match: re.Match[str]) -> str:
        value = lookup(data, match.group(1).strip())
        return "" if value is None else str(value)

    return PLACEHOLDER.sub(fill, text)
