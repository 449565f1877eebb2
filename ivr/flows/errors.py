"""Errors of the flows layer; the CLI prints each as one line (or one line per issue)."""

from __future__ import annotations

from collections.abc import Sequence

from ivr.errors import IvrError
from ivr.flows.positions import FlowIssue


class FlowError(IvrError):
    """Base of flow errors."""


class FlowSyntaxError(FlowError):
    """The file is not YAML at all (or not a mapping); carries the position when known."""

    def __init__(self, issue: FlowIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue


class FlowValidationError(FlowError):
    """The flow breaks the schema or the graph rules; `issues` lists every problem found."""

    def __init__(self, issues: Sequence[FlowIssue]) -> None:
        self.issues = sorted(issues)
        first = str(self.issues[0]) if self.issues else "invalid flow"
        more = len(self.issues) - 1
        super().__init__(first + (f" (and {more} more)" if more > 0 else ""))


class FlowNotFound(FlowError):
    """No (published) flow by that name or for that number."""
