"""YAML text -> FlowFile model, keeping `file:line:col` of every key and value.

PyYAML's composer gives nodes with marks; we build plain data from them ourselves so that
duplicate keys are caught (PyYAML would keep the last silently) and mapping keys stay the text
the author wrote (`on:` and `0:` stay strings, not YAML 1.1's True and 0). Pydantic errors are
mapped back through their `loc` to the position of the offending field.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ivr.flows.errors import FlowValidationError
from ivr.flows.positions import FieldPath, FlowIssue, Pos, Positions
from ivr.flows.reader import compose, read_file
from ivr.flows.schema import FlowFile

_CORE = "tag:yaml.org,2002:"
BOOL_TAG = _CORE + "bool"
_PLAIN_TAGS = frozenset(
    _CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map")
)
_KINDS = {"int": "number", "float": "number", "timestamp": "date", "bool": "true or false",
          "null": "null"}  # fmt: skip


@dataclass(frozen=True)
class LoadedFlow:
    """A flow file that passed the schema: the model, where everything is, and its text."""

    model: FlowFile
    positions: Positions
    source: str

    @property
    def file(self) -> str:
        return self.positions.file

    @property
    def name(self) -> str:
        return self.model.flow


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[FieldPath, Pos] = {}
        self.keys: dict[FieldPath, Pos] = {}
        self.issues: list[FlowIssue] = []
        self._scalars = yaml.constructor.SafeConstructor()

    def pos(self, node: yaml.Node) -> Pos:
        return Pos(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.values[path] = self.pos(node)
        foreign = _foreign_tag(node)
        if foreign is not None:  # reported; the value is read as if it had no tag
            self.issues.append(FlowIssue(self.pos(node), f"YAML tag {foreign} is not used in "
                                         "flow files; remove it"))  # fmt: skip
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if foreign is not None or (
            node.tag == BOOL_TAG and str(node.value).lower() not in ("true", "false")
        ):
            return str(node.value)  # YAML 1.2: yes/no/on/off are words ("say: [yes, no]")
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        """PyYAML's value for a scalar; one that cannot be built (month 13, a number too long
        for Python, an unknown or misapplied tag) is an issue, and its text stands in for it."""
        # PyYAML's constructors fail in many ways on odd input (an empty `!!int`: IndexError).
        try:
            return self._scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, AttributeError, LookupError,
                ArithmeticError) as err:  # fmt: skip
            self.issues.append(FlowIssue(self.pos(node), _unbuildable(node, err)))
            return str(node.value)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(FlowIssue(self.pos(key_node), "a key must be a plain name"))
                continue
            key = str(key_node.value)
            if key == "<<":
                self.issues.append(FlowIssue(self.pos(key_node), "YAML merge keys are not used"))
                continue
            if key in out:
                first = self.keys[(*path, key)]
                self.issues.append(
                    FlowIssue(
                        self.pos(key_node),
                        f"duplicate key {key!r} (first at line {first.line}); remove one",
                    )
                )
                continue
            self.keys[(*path, key)] = self.pos(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out


def _unbuildable(node: yaml.Node, err: Exception) -> str:
    value = str(node.value)
    shown = repr(value) if len(value) <= 40 else f"a {len(value)}-character value"
    kind = _KINDS.get(str(node.tag).rsplit(":", 1)[-1], "value")
    if kind == "number" and len(value) > sys.get_int_max_str_digits() > 0:
        return (
            f"this {len(value)}-digit number is longer than the "
            f"{sys.get_int_max_str_digits()} digits Python reads; quote it if it is text"
        )
    why = f" ({err})" if kind == "date" and isinstance(err, ValueError) else ""
    return f"{shown} is not a {kind}{why}; quote it if it is text"


def _foreign_tag(node: yaml.Node) -> str | None:
    """A tag flow files do not use (!!python/..., !!set, !!binary, !custom), written short."""
    tag = str(node.tag)
    if tag in _PLAIN_TAGS:
        return None
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


def _loc_path(loc: tuple[int | str, ...], positions: Positions) -> FieldPath:
    """Pydantic's loc names union tags and validator steps too; keep the parts in the file."""
    path: FieldPath = ()
    for part in loc:
        candidate = (*path, part)
        if positions.has(*candidate):
            path = candidate
        elif isinstance(part, str) and not positions.has(*path, part):
            continue
    return path


def _message(error: ErrorDetails, path: FieldPath) -> str:
    kind, msg = error["type"], str(error["msg"]).removeprefix("Value error, ")
    field = str(error["loc"][-1]) if error["loc"] else "flow"
    if kind == "missing":
        return f"{_where(path)}: missing field {field!r}"
    if kind == "extra_forbidden":
        return f"{_where(path[:-1])}: unknown field {field!r}"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx") or {}
        return f"unknown node type {ctx.get('tag')!r}; use one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "a node needs a 'type:' (say, play, menu, gather, branch, ...)"
    return f"{_where(path)}: {msg}"


def _where(path: FieldPath) -> str:
    """("nodes", "menu", "options", 3, "key") -> "node 'menu' options[3].key"."""
    head, rest = "", list(path)
    if len(rest) >= 2 and rest[0] == "nodes":
        head, rest = f"node {rest[1]!r}", rest[2:]
    text = ""
    for part in rest:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return " ".join(p for p in (head, text) if p) or "flow"


def _issues(err: ValidationError, positions: Positions) -> list[FlowIssue]:
    issues = []
    for error in err.errors():
        path = _loc_path(tuple(error["loc"]), positions)
        at = positions.key(*path) if error["type"] == "extra_forbidden" else positions.at(*path)
        if error["type"] == "union_tag_invalid":
            at = positions.at(*path, "type")
        issues.append(FlowIssue(at, _message(error, path)))
    return issues


def parse(text: str, file: str = "<flow>") -> tuple[dict[str, Any], Positions, list[FlowIssue]]:
    """YAML text -> (plain data, positions, duplicate-key issues)."""
    builder = _Builder(file)
    data = builder.build(compose(text, file), ())
    return data, Positions(file, builder.values, builder.keys), builder.issues


def load_text(text: str, file: str = "<flow>") -> LoadedFlow:
    """Parse and check against the schema; raises FlowSyntaxError or FlowValidationError with
    every schema problem (graph checks are validate.py's)."""
    data, positions, issues = parse(text, file)
    try:
        model = FlowFile.model_validate(data)
    except ValidationError as err:
        # A value already reported as unreadable is not reported again by the schema.
        known = {issue.pos for issue in issues}
        schema = [i for i in _issues(err, positions) if i.pos not in known]
        raise FlowValidationError(issues + schema) from None
    if issues:
        raise FlowValidationError(issues)
    return LoadedFlow(model, positions, text)


def load_file(path: Path) -> LoadedFlow:
    """Read (UTF-8, size-limited: reader.py) and load; raises FlowSyntaxError for a file
    that cannot be read."""
    return load_text(read_file(path), str(path))
