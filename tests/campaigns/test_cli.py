"""`ivr campaign ...` commands, run in-process on a migrated SQLite file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from ivr.campaigns.cli import add_campaign_commands
from ivr.store.errors import Conflict


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_campaign_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


@pytest.fixture(autouse=True)
def env(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IVR_DATABASE_URL", sqlite_url)


def test_create_import_start_pause_status_report(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text("phone,name,tz\n+12125550100,Ann,America/New_York\nbad,Bo,UTC\n")
    assert run("campaign", "create", "spring", "--window", "09:00-20:00") == 0
    assert run("campaign", "import", str(csv), "--campaign", "spring") == 0
    out = capsys.readouterr()
    assert f"{csv}:3: rejected bad: invalid phone number 'bad'" in out.out
    assert "imported 1 of 2 rows into spring, 1 rejected" in out.out
    assert "2/2 rows" in out.err  # the progress bar
    assert run("campaign", "start", "spring") == 0
    assert run("campaign", "pause", "spring") == 0
    capsys.readouterr()
    assert run("campaign", "status", "spring") == 0
    assert capsys.readouterr().out.splitlines() == [
        "spring: paused (paused from the command line)",
        "  pending 1, dialing 0, done 0, failed 0, cancelled 0"]
    assert run("campaign", "report", "spring") == 0
    assert json.loads(capsys.readouterr().out)["contacts"] == 1
    with pytest.raises(Conflict):
        run("campaign", "create", "spring")
