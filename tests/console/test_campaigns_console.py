"""Campaigns in the console: create from a template, upload contacts (rejections shown), start,
pause and resume, and progress that updates without a reload."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from ivr.store.models import CampaignContactRow
from ivr.store.repositories.campaigns import CampaignRepository
from tests.console.conftest import Browse, Console

CSV = """phone,name,time_zone
+12025550101,Ann Lee,America/New_York
+12025550102,Bob Stone,America/Chicago
not-a-phone,Carl Nobody,UTC
+12025550104,Dee Ray,Mars/Olympus
"""
# The same people in Tokyo, where the dialer's clock is outside the calling window: nobody is
# dialled, so a test can settle contacts by hand and watch the page follow.
CSV_OUT_OF_WINDOW = CSV.replace("America/New_York", "Asia/Tokyo").replace(
    "America/Chicago", "Asia/Tokyo")


def _settle_one(console: Console, name: str) -> None:
    campaign = CampaignRepository(console.db).get(name)
    contact = CampaignRepository(console.db).contacts(campaign.id)[0]
    with console.db.session() as s:
        s.execute(update(CampaignContactRow).where(CampaignContactRow.id == contact.id)
                  .values(state="done", result="confirmed", attempts=1))


def test_create_upload_start_and_watch_progress(tab: Browse, console_app: Console,
                                                tmp_path: Path) -> None:
    tab.login(console_app.tokens["operator"])
    tab.go("/console/campaigns")
    tab.page.check("input[name=template][value=outage]")
    tab.page.fill("#campaign-name", "outage-north")
    tab.page.press("#campaign-name", "Enter")
    tab.page.wait_for_url("**/console/campaigns/outage-north")
    assert tab.page.locator("#campaign-state").inner_text() == "draft"

    upload = tmp_path / "contacts.csv"
    upload.write_text(CSV_OUT_OF_WINDOW, encoding="utf-8")
    tab.page.set_input_files("#csv-file", str(upload))
    tab.page.click("#upload-form button[type=submit]")
    rejections = tab.page.locator("#rejections tbody tr")
    rejections.first.wait_for()
    assert rejections.count() == 2
    report = tab.page.locator("#rejections").inner_text()
    assert "not-a-phone" in report and "Mars/Olympus" in report
    assert "2 of 4 rows imported" in tab.page.locator("#upload-result").inner_text()

    tab.page.wait_for_function("() => document.getElementById('total-count').textContent === '2'")
    tab.page.click("#start-btn")
    tab.page.wait_for_selector("#campaign-state.state-running")
    _settle_one(console_app, "outage-north")  # as the dialer would after a confirmed call
    tab.page.wait_for_function(
        "() => document.getElementById('finished-count').textContent === '1'")
    assert tab.page.locator("#outcomes tr[data-result=confirmed]").inner_text().endswith("1")
    tab.shot("campaign-progress")
    tab.page.click("#pause-btn")
    tab.page.wait_for_selector("#campaign-state.state-paused")
    tab.page.click("#resume-btn")
    tab.page.wait_for_selector("#campaign-state.state-running")
    tab.check()


def test_a_viewer_sees_campaigns_but_no_controls(tab: Browse, console_app: Console) -> None:
    tab.login(console_app.tokens["viewer"])
    tab.go("/console/campaigns")
    assert tab.page.locator("#new-campaign").count() == 0
    tab.check()


def test_a_started_campaign_is_dialled_by_the_emulator_and_progress_shows_it(
    tab: Browse, console_app: Console, tmp_path: Path
) -> None:
    tab.login(console_app.tokens["operator"])
    tab.go("/console/campaigns")
    tab.page.fill("#campaign-name", "dialled-by-emulator")
    tab.page.press("#campaign-name", "Enter")
    tab.page.wait_for_url("**/console/campaigns/dialled-by-emulator")
    upload = tmp_path / "contacts.csv"
    upload.write_text(CSV, encoding="utf-8")
    tab.page.set_input_files("#csv-file", str(upload))
    tab.page.click("#upload-form button[type=submit]")
    tab.page.locator("#rejections").wait_for()
    tab.page.click("#start-btn")
    tab.page.wait_for_function(  # only the dialer can move this; the test settles nothing
        "() => document.getElementById('finished-count').textContent === '2'", timeout=20000)
