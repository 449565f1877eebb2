"""`ivr flows ...` commands, called through ivr.flows.cli (wired into ivr.cli separately)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from ivr.flows.cli import add_flow_commands, list_rows, publish
from ivr.flows.errors import FlowValidationError
from ivr.store.db import Database
from ivr.store.repositories.flows import FlowRepository

FIXTURES = Path(__file__).parent / "fixtures"
DIALPLANS = Path(__file__).parents[2] / "dialplans"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ivr")
    add_flow_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_url: str) -> Path:
    """Settings for the commands: the test's database and a dialplans folder of its own."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    dialplans = tmp_path / "dialplans"
    shutil.copytree(DIALPLANS, dialplans)
    monkeypatch.setenv("IVR_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("IVR_DIALPLANS_DIR", str(dialplans))
    monkeypatch.setenv("IVR_PROMPTS_DIR", str(tmp_path / "prompts"))
    return dialplans


def test_validate_sample_dialplans_prints_n_flows_ok(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["flows", "validate", str(env)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "2 flows OK"
    assert "prompt check skipped" in err


def test_validate_bad_files_exits_1_and_prints_every_problem(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = FIXTURES / "bad"
    code = run(["flows", "validate", str(bad), "--prompts", str(FIXTURES / "catalog.yaml")])
    out, _ = capsys.readouterr()
    expected = sum(len(p.read_text().splitlines()) for p in bad.glob("*.expect"))
    assert code == 1
    assert len(out.splitlines()) == expected
    assert f"{bad / 'unknown-refs.yaml'}:9:11: unknown node 'menuu'; did you mean 'menu'?" in out


def test_import_stores_validated_versions_publishes_first_run_and_routes(
    env: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["flows", "import"]) == 0
    db = Database(sqlite_url)
    repo = FlowRepository(db)
    published = repo.published("main-en")
    assert published is not None and published.version == 1
    assert repo.route("18005550100") == "main-en"
    assert repo.route("74951234567") == "main-ru"
    assert run(["flows", "import"]) == 0
    assert "unchanged main-en" in capsys.readouterr().out
    assert len(repo.versions("main-en")) == 1
    db.dispose()


def test_changed_file_imports_as_new_version_then_publish_and_rollback(
    env: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["flows", "import"]) == 0
    path = env / "main-en.yaml"
    path.write_text(path.read_text().replace("retries: 3", "retries: 2"))
    assert run(["flows", "import", "--publish", "none"]) == 0
    db = Database(sqlite_url)
    repo = FlowRepository(db)
    assert [(v.version, v.state) for v in repo.versions("main-en")] == [
        (1, "published"), (2, "validated"),
    ]  # fmt: skip
    assert run(["flows", "publish", "main-en"]) == 0
    assert repo.published("main-en").version == 2  # type: ignore[union-attr]
    assert run(["flows", "rollback", "main-en"]) == 0
    assert repo.published("main-en").version == 1  # type: ignore[union-attr]
    assert "rolled back main-en: v1 is published" in capsys.readouterr().out
    assert ("main-en", "v1", "v2 rolled_back", "18005550100") in list_rows(db)
    db.dispose()


def test_invalid_file_is_not_imported_and_import_exits_1(
    env: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(FIXTURES / "bad" / "unknown-refs.yaml", env / "unknown-refs.yaml")
    assert run(["flows", "import"]) == 1
    assert "unknown node 'menuu'" in capsys.readouterr().out
    db = Database(sqlite_url)
    assert "unknown-refs" not in FlowRepository(db).names()
    db.dispose()


def test_a_stored_version_that_fails_validation_is_never_published(
    env: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(sqlite_url)
    repo = FlowRepository(db)
    text = (FIXTURES / "bad" / "unknown-refs.yaml").read_text()
    repo.create_version("unknown-refs", text, "tester")
    assert run(["flows", "publish", "unknown-refs"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "unknown-refs@v1:9:11: unknown node 'menuu'; did you mean 'menu'?"
    assert len(out) == 5
    with pytest.raises(FlowValidationError) as caught:
        publish(db, "unknown-refs", 1)
    assert len(caught.value.issues) == 5
    assert repo.published("unknown-refs") is None
    assert repo.get("unknown-refs", 1).state == "draft"
    db.dispose()


def test_list_shows_flows_versions_and_routes(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["flows", "import"]) == 0
    capsys.readouterr()
    assert run(["flows", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["FLOW", "PUBLISHED", "LATEST", "ROUTES"]
    assert lines[1].split() == ["main-en", "v1", "v1", "published", "18005550100"]
