"""Flow bytes and text -> a YAML node tree, within limits.

Flow text comes from strangers too (any viewer can post it to the admin API's validator), so
what it may cost is bounded, and every refusal is one `file:line:col: sentence`:

- size: at most MAX_BYTES (the sample flows are about 7 KB);
- encoding: UTF-8 only (a Latin-1 or UTF-16 file is named as such, not a traceback);
- nesting: at most MAX_DEPTH levels (the samples use 6; PyYAML's composer recurses per level);
- values: at most MAX_VALUES after aliases are expanded. A "billion laughs" document (each
  anchor repeating the one before ten times) is a few hundred bytes that expands to 10^n
  values; the composer knows each anchored value's expanded size as it ends, so an alias that
  would take the file over the limit is refused before anything is expanded. An alias inside
  the value it names (a structure containing itself) is refused too.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import yaml

from ivr.flows.errors import FlowSyntaxError
from ivr.flows.positions import FlowIssue, Pos

MAX_BYTES = 256 * 1024
MAX_DEPTH = 40
MAX_VALUES = 20_000
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def refuse(file: str, line: int, col: int, message: str) -> FlowSyntaxError:
    return FlowSyntaxError(FlowIssue(Pos(file, line, col), message))


def _too_big(file: str) -> FlowSyntaxError:
    limit = MAX_BYTES // 1024
    return refuse(file, 1, 1, f"the file is larger than {limit} KiB, the most a flow file may "
                              "be; split it into flows that goto each other")  # fmt: skip


def read_file(path: Path) -> str:
    """The file's text; never reads more than MAX_BYTES + 1 bytes."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as err:
        raise refuse(str(path), 1, 1, f"cannot read the file: {err.strerror or err}") from None
    return decode(raw, str(path))


def decode(raw: bytes, file: str) -> str:
    if len(raw) > MAX_BYTES:
        raise _too_big(file)
    if raw.startswith(_WIDE_BOMS) or b"\x00" in raw:
        raise refuse(file, 1, 1, "the file is UTF-16 or UTF-32 (or binary), not UTF-8 text; "
                                 "save it as UTF-8")  # fmt: skip
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        start = raw.rfind(b"\n", 0, err.start) + 1
        line = raw.count(b"\n", 0, err.start) + 1
        col = len(raw[start : err.start].decode("utf-8", "replace")) + 1
        why = f"byte 0x{raw[err.start]:02x} is not UTF-8 (a Latin-1 or Windows file?)"
        raise refuse(file, line, col, f"{why}; save the file as UTF-8") from None


class _Refused(Exception):
    """A limit was hit while composing, at the event that hit it."""

    def __init__(self, event: yaml.Event, message: str) -> None:
        super().__init__(message)
        mark = event.start_mark
        self.line, self.col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._values = 0
        self._sizes: dict[int, int] = {}  # id of an anchored node -> its size once complete

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise _Refused(event, f"alias *{event.anchor} is inside the value it names (a "
                                      "structure that contains itself)")  # fmt: skip
            self._count(size, event, f"alias *{event.anchor} repeats {size} values and takes")
            return node
        if self._depth >= MAX_DEPTH:
            raise _Refused(event, f"nested more than {MAX_DEPTH} levels deep; a flow file "
                                  "needs far fewer")  # fmt: skip
        self._count(1, event, "this value takes")
        before = self._values
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if getattr(event, "anchor", None) is not None:
            self._sizes[id(node)] = self._values - before + 1
        return node

    def _count(self, size: int, event: yaml.Event, what: str) -> None:
        self._values += size
        if self._values > MAX_VALUES:
            raise _Refused(event, f"{what} the file past {MAX_VALUES} values, the most a flow "
                                  "file may hold")  # fmt: skip


def compose(text: str, file: str) -> yaml.Node:
    """The document's node tree (aliases stay shared nodes: nothing is expanded here)."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_big(file)
    try:
        loader = _BoundedLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        col = err.position - text.rfind("\n", 0, err.position)
        raise refuse(file, line, col, f"character U+{err.character:04X} is not allowed in a "
                                      "flow file (control characters and lone surrogates are "
                                      "not text)") from None  # fmt: skip
    except _Refused as err:
        raise refuse(file, err.line, err.col, err.message) from None
    except yaml.MarkedYAMLError as err:
        raise _marked(file, err) from None
    except yaml.YAMLError as err:
        raise refuse(file, 1, 1, f"not valid YAML: {_one_line(str(err))}") from None
    if not isinstance(node, yaml.MappingNode):
        raise refuse(file, 1, 1, "a flow file is a mapping with flow:, start: and nodes:")
    return node


def _marked(file: str, err: yaml.MarkedYAMLError) -> FlowSyntaxError:
    mark = err.problem_mark or err.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return refuse(file, line, col, "not valid YAML: " + _one_line(err.problem or str(err)))


def _one_line(text: str) -> str:
    return " ".join(text.split())
