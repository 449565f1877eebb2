"""`ivr campaign ...` commands, run in-process on a migrated SQLite file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from ivr.campaigns.cli import add_campaign_commands
from ivr.errors import IvrError
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


def test_create_sets_the_window_retry_delays_and_limits_the_api_accepts() -> None:
    assert run("campaign", "create", "late", "--window", "10:30-24:00", "--attempts", "5",
               "--retry", "busy=90s", "--retry", "no-answer=2m", "--retry", "machine=1h",
               "--retry", "unknown=45", "--daily-cap", "2", "--priority", "7",
               "--holiday", "2026-12-25", "--holiday", "2027-01-01") == 0
    from ivr.config import load_settings
    from ivr.store.db import Database
    from ivr.store.repositories.campaigns import CampaignRepository

    campaign = CampaignRepository(Database(load_settings().database_url)).get("late")
    assert (campaign.window_start, campaign.window_end) == (10 * 60 + 30, 24 * 60)
    assert campaign.max_attempts == 5 and campaign.daily_cap == 2 and campaign.priority == 7
    assert campaign.holidays == ("2026-12-25", "2027-01-01")
    assert {k: campaign.retry_after(k) for k in ("busy", "no-answer", "machine", "unknown",
                                                 "congestion")} == {
        "busy": 90, "no-answer": 120, "machine": 3600, "unknown": 45, "congestion": 300}


@pytest.mark.parametrize(("argv", "message"), [
    (("--retry", "busy"), "expected OUTCOME=DELAY"),
    (("--retry", "ringing=5m"), "unknown retry outcome 'ringing'"),
    (("--retry", "busy=soon"), "bad delay 'soon'"),
    (("--window", "8:00-21:00"), "expected HH:MM-HH:MM"),
    (("--window", "21:00-08:00"), "calling window"),
    (("--holiday", "25/12/2026"), "bad holiday '25/12/2026'"),
])
def test_create_refuses_bad_options_in_one_line(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(IvrError, match=message):
        run("campaign", "create", "bad", *argv)


def test_create_help_names_the_retry_outcomes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("campaign", "create", "--help")
    text = " ".join(capsys.readouterr().out.split())
    assert "--retry OUTCOME=DELAY" in text and "no-answer" in text and "callback" in text
    assert "--window HH:MM-HH:MM" in text and "--holiday" in text


def test_import_reads_a_utf16_file_and_refuses_latin1_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Spreadsheets save "Unicode text" as UTF-16 with a BOM: read it. Latin-1 bytes are not
    guessed at: one line naming the byte (a UnicodeDecodeError traceback before)."""
    assert run("campaign", "create", "spring") == 0
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("phone,name\n+12125550100,Zoë\n".encode("utf-16"))
    assert run("campaign", "import", str(utf16), "--campaign", "spring") == 0
    assert "imported 1 of 1 rows" in capsys.readouterr().out
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("phone,name\n+12125550101,Zoë\n".encode("latin-1"))
    with pytest.raises(IvrError, match="byte 0xeb"):
        run("campaign", "import", str(latin1), "--campaign", "spring")
