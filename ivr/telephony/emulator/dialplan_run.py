"""Where a channel is in the dialplan and how Asterisk moves it on: variable and expression
substitution, `Goto()` and `GotoIf()` (pbx.c, pbx_builtins.c, ast_expr2 of Asterisk 22).

Supported: `${VAR}`, `${VAR:offset[:length]}`, `${IF(cond?a:b)}`, `$[a = b]`, `$[a != b]`
(quoted or bare operands, numbers compared as numbers), innermost first as pbx_substitute_
variables does; `Goto([[context,]exten,]priority|label)` and `GotoIf(cond?[dest1][:dest2])`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.telephony.emulator.dialplan import Dialplan, Extension, Step

_VAR = re.compile(r"\$\{([^${}\[\]]*)\}")  # innermost ${...}
_EXPR = re.compile(r"\$\[([^$\[\]]*)\]")  # innermost $[...]
_MAX_PASSES = 16  # a value that keeps producing ${...} is not expanded forever
_COMPARE = re.compile(r"^(?P<left>.*?)\s*(?P<op>!=|=)\s*(?P<right>.*)$", re.DOTALL)


def expand(text: str, lookup: Mapping[str, str]) -> str:
    """`text` with `${...}` and `$[...]` replaced, innermost first (unset variables: empty)."""
    for _ in range(_MAX_PASSES):
        done = _EXPR.sub(lambda m: evaluate(m[1]), _VAR.sub(lambda m: _value(m[1], lookup), text))
        if done == text:
            break
        text = done
    return text


def _value(name: str, lookup: Mapping[str, str]) -> str:
    if name.upper().startswith("IF(") and name.endswith(")"):
        cond, _, branches = name[3:-1].partition("?")
        yes, _, no = branches.partition(":")
        return yes if is_true(cond) else no
    base, sep, rest = name.partition(":")
    value = lookup.get(base, "")
    if not sep:
        return value
    offset_text, _, length_text = rest.partition(":")
    offset = int(offset_text or 0)
    start = max(len(value) + offset, 0) if offset < 0 else offset
    if not length_text:
        return value[start:]
    length = int(length_text)
    return value[start:start + length] if length >= 0 else value[start:length]


def evaluate(expr: str) -> str:
    """An `$[...]` expression: a comparison gives "1" or "0", anything else itself."""
    m = _COMPARE.match(expr.strip())
    if m is None:
        return _operand(expr)
    left, right = _operand(m["left"]), _operand(m["right"])
    try:
        equal = float(left) == float(right)
    except ValueError:
        equal = left == right
    return "1" if equal == (m["op"] == "=") else "0"


def _operand(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def is_true(cond: str) -> bool:
    """pbx_checkcondition: empty is false, a number is its value, other text is true."""
    cond = cond.strip()
    if not cond:
        return False
    try:
        return float(cond) != 0
    except ValueError:
        return True


def gotoif_target(data: str) -> str | None:
    """GotoIf(cond?dest1:dest2): the destination taken, None to go on to the next priority."""
    cond, sep, dests = data.partition("?")
    if not sep:
        return None  # Asterisk warns "Ignoring, since there is no question mark" and goes on
    yes, _, no = dests.partition(":")
    return (yes if is_true(cond) else no).strip() or None


@dataclass
class Position:
    """The channel's context, extension and priority, moved as the pbx loop moves it."""

    plan: Dialplan
    context: str
    exten: str
    priority: int = 1

    def _extension(self) -> Extension | None:
        return self.plan.find(self.context, self.exten)

    def step(self) -> Step | None:
        """The application at this priority, None where the dialplan ends (the call hangs up)."""
        ext = self._extension()
        return None if ext is None else ext.priorities.get(self.priority)

    def next(self) -> None:
        self.priority += 1

    def goto(self, dest: str) -> bool:
        """Goto([[context,]exten,]priority|label); False where it leads nowhere."""
        parts = [p.strip() for p in dest.split(",")]
        if not 1 <= len(parts) <= 3:
            return False
        context, exten = self.context, self.exten
        if len(parts) == 3:
            context, exten = parts[0], parts[1]
        elif len(parts) == 2:
            exten = parts[0]
        ext = self.plan.find(context, exten)
        if ext is None:
            return False
        target = parts[-1]
        prio = int(target) if target.isdigit() else ext.labels.get(target)
        if prio is None or prio not in ext.priorities:
            return False
        self.context, self.exten, self.priority = context, exten, prio
        return True
