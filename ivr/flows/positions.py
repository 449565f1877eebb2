"""Where things are in a flow file: `file:line:col` for every node and field, and the issues
that point at them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Pos:
    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class FlowIssue:
    """One problem in a flow file, printed as `file:line:col: sentence`."""

    pos: Pos
    message: str

    def __str__(self) -> str:
        return f"{self.pos}: {self.message}"

    def to_json(self) -> dict[str, str | int]:
        return {
            "file": self.pos.file,
            "line": self.pos.line,
            "column": self.pos.col,
            "message": self.message,
        }


class Positions:
    """Positions of values (and of mapping keys) by their path in the document."""

    def __init__(
        self, file: str, values: Mapping[FieldPath, Pos], keys: Mapping[FieldPath, Pos]
    ) -> None:
        self.file = file
        self._values = dict(values)
        self._keys = dict(keys)

    def at(self, *path: str | int) -> Pos:
        """The value at `path`, or the nearest enclosing thing that exists in the file (a
        missing field is reported where its parent is)."""
        for end in range(len(path), -1, -1):
            found = self._values.get(path[:end])
            if found is not None:
                return found
        return Pos(self.file, 1, 1)

    def key(self, *path: str | int) -> Pos:
        """The key naming the value at `path` (where a reader looks for a field's name)."""
        return self._keys.get(path) or self.at(*path)

    def has(self, *path: str | int) -> bool:
        return path in self._values
