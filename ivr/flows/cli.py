"""`ivr flows ...`: validate, import, publish, roll back and list call flows.

`add_flow_commands(subparsers)` registers the commands on the `ivr` parser. Errors that are
IvrError / StoreError subclasses reach the CLI's one-line error mapping; validation problems
are printed one per line (`file:line:col: sentence`) and exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ivr.config import Settings, load_settings
from ivr.flows.errors import FlowValidationError
from ivr.flows.files import import_dialplans, validate_paths
from ivr.flows.positions import FlowIssue
from ivr.flows.validate import compile_flow
from ivr.store.db import Database, require_current
from ivr.store.repositories.flows import FlowRepository

EXIT_INVALID = 1


def add_flow_commands(subparsers: Any) -> None:
    """Register `flows validate|import|publish|rollback|list` on the `ivr` sub-parsers."""
    flows = subparsers.add_parser("flows", help="validate, import, publish and roll back flows")
    sub = flows.add_subparsers(dest="flows", metavar="ACTION", required=True)
    check = sub.add_parser("validate", help="check flow files; print every problem")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    check.add_argument("--prompts", type=Path, help="prompt catalog (default: IVR_PROMPTS_DIR)")
    check.set_defaults(func=cmd_validate)
    imp = sub.add_parser("import", help="store changed dialplans/ files as validated versions")
    imp.add_argument("--publish", choices=("none", "missing", "all"), default="missing",
                     help="publish imported versions: none, missing (first run), all")  # fmt: skip
    imp.set_defaults(func=cmd_import)
    pub = sub.add_parser("publish", help="publish a version (default: the latest)")
    pub.add_argument("name")
    pub.add_argument("--version", type=int, dest="number", help="version number")
    pub.set_defaults(func=cmd_publish)
    back = sub.add_parser("rollback", help="re-publish the version published before")
    back.add_argument("name")
    back.set_defaults(func=cmd_rollback)
    sub.add_parser("list", help="flows, their published version and routes").set_defaults(
        func=cmd_list
    )


def _catalog(settings: Settings | None, given: Path | None) -> Path | None:
    if given is not None:
        return given
    return settings.prompts_dir / "catalog.yaml" if settings else None


def _print_issues(issues: list[FlowIssue]) -> None:
    for issue in issues:
        print(issue)


def cmd_validate(args: argparse.Namespace) -> int:
    settings = load_settings() if args.prompts is None else None
    report = validate_paths(args.paths, _catalog(settings, args.prompts))
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if report.issues:
        _print_issues(report.issues)
        bad = len({i.pos.file for i in report.issues})
        print(f"{len(report.issues)} problems in {bad} of {report.files} flows", file=sys.stderr)
        return EXIT_INVALID
    print(f"{report.files} flows OK")
    return 0


def _database(settings: Settings) -> Database:
    require_current(settings.database_url)
    return Database(settings.database_url)


def cmd_import(args: argparse.Namespace) -> int:
    settings = load_settings()
    db = _database(settings)
    try:
        summary = import_dialplans(
            db, settings.dialplans_dir, catalog=_catalog(settings, None), publish=args.publish
        )
    finally:
        db.dispose()
    for note in summary.report.notes:
        print(f"note: {note}", file=sys.stderr)
    for name, number in summary.created:
        print(f"imported {name} v{number} (validated)")
    for name in summary.unchanged:
        print(f"unchanged {name}")
    for name, number in summary.published:
        print(f"published {name} v{number}")
    if summary.report.issues:
        _print_issues(summary.report.issues)
        return EXIT_INVALID
    return 0


def publish(db: Database, name: str, number: int | None = None) -> int:
    """Re-check the stored text and publish it; a flow that fails validation never goes live.
    Returns the published version number."""
    repo = FlowRepository(db)
    if number is None:
        versions = repo.versions(name)
        number = versions[-1].version if versions else 0
    version = repo.get(name, number)
    compile_flow(version.yaml, f"{name}@v{number}", version=number)
    if version.state == "draft":
        repo.set_state(name, number, "validated")
    return repo.publish(name, number).version


def cmd_publish(args: argparse.Namespace) -> int:
    db = _database(load_settings())
    try:
        number = publish(db, args.name, args.number)
    except FlowValidationError as err:
        _print_issues(err.issues)
        print(f"not published: {args.name} has {len(err.issues)} problems", file=sys.stderr)
        return EXIT_INVALID
    finally:
        db.dispose()
    print(f"published {args.name} v{number}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    db = _database(load_settings())
    try:
        version = FlowRepository(db).rollback(args.name)
    finally:
        db.dispose()
    print(f"rolled back {args.name}: v{version.version} is published")
    return 0


def list_rows(db: Database) -> list[tuple[str, str, str, str]]:
    """(name, published version, latest version and state, routes) per flow."""
    repo = FlowRepository(db)
    routes = repo.routes()
    rows = []
    for name in repo.names():
        versions = repo.versions(name)
        live = next((f"v{v.version}" for v in versions if v.state == "published"), "-")
        latest = f"v{versions[-1].version} {versions[-1].state}" if versions else "-"
        numbers = ",".join(d for d, flow in routes.items() if flow == name) or "-"
        rows.append((name, live, latest, numbers))
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    db = _database(load_settings())
    try:
        rows = list_rows(db)
    finally:
        db.dispose()
    table = [("FLOW", "PUBLISHED", "LATEST", "ROUTES"), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    for row in table:
        print("  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]]))
    return 0
