"""The small, safe condition language of `branch` nodes (parsed here, never eval'd).

    customer.segment == 'business' and business_hours
    time >= 18:00 or weekday in ['sat', 'sun']
    not customer or attempts > 2

Names are dotted lookups into the call's data (caller.*, customer.*, session variables and
the built-ins time, weekday, date, business_hours, holiday, language, segment, intent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivr.flows.text import lookup

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'[^']*'|\"[^\"]*\")|(?P<time>\d{1,2}:\d{2}(?!\d))|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,))"
)
_CMP = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
_FALSY = ("", "0", "false", "no", "off")
# Conditions are short; the limits keep the recursive parser and evaluator far from Python's
# recursion limit (and the tokenizer from quadratic time) whatever a flow file holds.
MAX_LENGTH = 500
MAX_NESTING = 20
Node = tuple[Any, ...]


class ExprError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    at: int


def _tokens(src: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = _TOKEN.match(src, pos)
        if m is None or m.lastgroup is None:
            bad = len(src) - len(src[pos:].lstrip())
            raise ExprError(f"unexpected {src[bad : bad + 10]!r}", bad)
        out.append(Tok(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    return [*out, Tok("end", "", len(src))]


class _Parser:
    def __init__(self, src: str) -> None:
        if len(src) > MAX_LENGTH:
            raise ExprError(f"longer than {MAX_LENGTH} characters; split it over branches",
                            MAX_LENGTH)  # fmt: skip
        self.toks = _tokens(src)
        self.i = 0
        self.depth = 0

    def nest(self, tok: Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExprError(f"nested more than {MAX_NESTING} deep", tok.at)

    def peek(self, text: str) -> bool:
        tok = self.toks[self.i]
        return tok.kind in ("op", "name") and tok.text == text

    def take(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if not self.peek(text):
            tok = self.toks[self.i]
            raise ExprError(f"expected {text!r} but found {tok.text or 'the end'!r}", tok.at)
        self.i += 1

    def parse(self) -> Node:
        node = self.or_()
        tok = self.toks[self.i]
        if tok.kind != "end":
            raise ExprError(f"unexpected {tok.text!r}; join conditions with and/or", tok.at)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek("or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.peek("and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.peek("not"):
            self.nest(self.take())
            node = ("not", self.not_())
            self.depth -= 1
            return node
        return self.cmp()

    def cmp(self) -> Node:
        left = self.atom()
        if self.peek("not") and self.toks[self.i + 1].text == "in":
            self.i += 2
            return ("cmp", "not in", left, self.atom())
        tok = self.toks[self.i]
        if tok.text in _CMP and tok.kind in ("op", "name"):
            self.take()
            return ("cmp", tok.text, left, self.atom())
        return left

    def atom(self) -> Node:
        tok = self.take()
        if tok.kind == "str":
            return ("lit", tok.text[1:-1])
        if tok.kind == "time":
            hours, minutes = tok.text.split(":")
            return ("lit", f"{int(hours):02d}:{minutes}")
        if tok.kind == "num":
            return ("lit", float(tok.text))
        if tok.kind == "name" and tok.text in ("true", "false", "none"):
            return ("lit", {"true": True, "false": False, "none": None}[tok.text])
        if tok.kind == "name" and tok.text not in ("and", "or", "not", "in"):
            return ("name", tok.text)
        if tok.text == "(":
            self.nest(tok)
            node = self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.text == "[":
            self.nest(tok)
            items = [self.atom()]
            while self.peek(","):
                self.take()
                items.append(self.atom())
            self.expect("]")
            self.depth -= 1
            return ("list", *items)
        raise ExprError(f"expected a name or a value but found {tok.text or 'the end'!r}", tok.at)


@dataclass(frozen=True)
class Condition:
    source: str
    tree: Node

    def names(self) -> list[str]:
        return sorted(set(_names(self.tree)))

    def evaluate(self, data: Mapping[str, Any]) -> bool:
        return _truthy(_eval(self.tree, data))


def compile_condition(source: str) -> Condition:
    return Condition(source, _Parser(source).parse())


def _names(node: Node) -> list[str]:
    if node[0] == "name":
        return [node[1]]
    if node[0] == "lit":
        return []
    return [n for child in node[1:] if isinstance(child, tuple) for n in _names(child)]


def _eval(node: Node, data: Mapping[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "name":
        return lookup(data, node[1])
    if kind == "list":
        return [_eval(child, data) for child in node[1:]]
    if kind == "not":
        return not _truthy(_eval(node[1], data))
    if kind == "and":
        return _truthy(_eval(node[1], data)) and _truthy(_eval(node[2], data))
    if kind == "or":
        return _truthy(_eval(node[1], data)) or _truthy(_eval(node[2], data))
    return _compare(node[1], _eval(node[2], data), _eval(node[3], data))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() not in _FALSY
    return bool(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _equal(a: Any, b: Any) -> bool:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, bool) or isinstance(b, bool):
        return _truthy(a) == _truthy(b)
    if a is None or b is None:
        return a is b
    return str(a).casefold() == str(b).casefold()


def _compare(op: str, a: Any, b: Any) -> bool:
    if op in ("in", "not in"):
        found = (
            any(_equal(a, x) for x in b)
            if isinstance(b, list)
            else (a is not None and b is not None and str(a).casefold() in str(b).casefold())
        )
        return found if op == "in" else not found
    if op in ("==", "!="):
        return _equal(a, b) == (op == "==")
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        x, y = na, nb
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b  # type: ignore[assignment]
    else:
        return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
