"""Flow files on disk: validate a set of them together (goto targets, duplicate names and
routes across files), and import them into the database as versions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ivr.flows.errors import FlowSyntaxError, FlowValidationError
from ivr.flows.loader import LoadedFlow, load_file
from ivr.flows.positions import FlowIssue
from ivr.flows.prompts import load_catalog
from ivr.flows.validate import check
from ivr.store.db import Database
from ivr.store.repositories.flows import FlowRepository

SUFFIXES = (".yaml", ".yml")


@dataclass
class FilesReport:
    flows: list[LoadedFlow] = field(default_factory=list)  # files that passed every check
    issues: list[FlowIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.issues


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, plus every *.yaml / *.yml inside folders named (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        else:
            out.append(path)
    return out


def validate_paths(paths: Sequence[Path], catalog: Path | None = None) -> FilesReport:
    """Load and check every flow file; ALL problems of all files are reported."""
    report = FilesReport()
    loaded: list[LoadedFlow] = []
    for path in flow_files(paths):
        report.files += 1
        try:
            loaded.append(load_file(path))
        except FlowSyntaxError as err:
            report.issues.append(err.issue)
        except FlowValidationError as err:
            report.issues += err.issues
    if catalog is None or not catalog.is_file():
        shown = catalog or "prompts/catalog.yaml"
        report.notes.append(f"prompt check skipped: no prompt catalog at {shown}")
    known = {f.name: set(f.model.nodes) for f in loaded}
    report.issues += _clashes(loaded)
    for flow in loaded:
        prompts = load_catalog(catalog, flow.model.language) if catalog else None
        issues = check(flow, prompts=prompts, flows=known)
        report.issues += issues
        if not issues:
            report.flows.append(flow)
    report.issues.sort()
    return report


def _clashes(flows: list[LoadedFlow]) -> list[FlowIssue]:
    issues: list[FlowIssue] = []
    names: dict[str, LoadedFlow] = {}
    routes: dict[str, LoadedFlow] = {}
    for flow in flows:
        first = names.setdefault(flow.name, flow)
        if first is not flow:
            issues.append(
                FlowIssue(flow.positions.at("flow"), f"flow {flow.name!r} is also {first.file}")
            )
        for i, dnis in enumerate(flow.model.routes):
            owner = routes.setdefault(dnis, flow)
            if owner is not flow:
                issues.append(
                    FlowIssue(
                        flow.positions.at("routes", i),
                        f"number {dnis} is already routed to flow {owner.name!r}",
                    )
                )
    return issues


@dataclass
class ImportSummary:
    created: list[tuple[str, int]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[tuple[str, int]] = field(default_factory=list)
    report: FilesReport = field(default_factory=FilesReport)


def import_dialplans(
    db: Database,
    directory: Path,
    *,
    catalog: Path | None = None,
    publish: Literal["none", "missing", "all"] = "none",
    actor: str = "import",
) -> ImportSummary:
    """Store each valid flow file whose text changed as a new version (draft, then validated
    once it passed), set its routes, and publish per `publish`: `missing` publishes flows that
    have no published version yet (first run), `all` publishes every version imported now.
    Invalid files are not stored; their issues are in `summary.report`."""
    repo = FlowRepository(db)
    summary = ImportSummary(report=validate_paths([directory], catalog))
    for flow in summary.report.flows:
        versions = repo.versions(flow.name)
        if versions and versions[-1].yaml == flow.source:
            summary.unchanged.append(flow.name)
            number = versions[-1].version
        else:
            number = repo.create_version(flow.name, flow.source, actor).version
            repo.set_state(flow.name, number, "validated")
            summary.created.append((flow.name, number))
        for dnis in flow.model.routes:
            repo.set_route(dnis, flow.name)
        new = (flow.name, number) in summary.created
        missing = publish == "missing" and repo.published(flow.name) is None
        if (publish == "all" and new) or missing:
            repo.publish(flow.name, number)
            summary.published.append((flow.name, number))
    return summary
