"""Reports in the console: every chart draws, and each exports its table as CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.store.repositories.audit import AuditRepository
from ivr.store.repositories.interactions import InteractionRepository
from tests.console.conftest import Browse, Console

DRAWN_PIXELS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
  return drawn;
}"""


def _seed(console: Console) -> None:
    now = datetime.now(UTC)
    calls = InteractionRepository(console.db)
    calls_made = [("self_served", "billing_balance"), ("transferred", "e2e_outage"),
                  ("transferred", "e2e_outage"), ("abandoned", None)]
    for i, (outcome, intent) in enumerate(calls_made):
        start = now - timedelta(hours=i + 1)
        calls.record(f"+1555000100{i}", "voice", start, start + timedelta(seconds=60), outcome,
                     intent=intent, flow_name="main-en", flow_version=1)
    AuditRepository(console.db).write("ivr", "otp.lockout", "customer:1", at=now)
    AuditRepository(console.db).write("ivr", "otp.verified", "customer:2", at=now)


def test_report_charts_render_and_export_csv(tab: Browse, console_app: Console) -> None:
    _seed(console_app)
    tab.login(console_app.tokens["viewer"])
    tab.go("/console/reports?days=7")
    for name in ("calls-per-hour", "containment", "transfers", "intents", "otp"):
        canvas = tab.page.locator(f"#report-{name} canvas")
        assert canvas.evaluate(DRAWN_PIXELS) > 500, f"chart {name} drew nothing"
    # The reach chart draws once a campaign was dialled (the campaigns tests may have run
    # first); before that it says so instead of drawing an empty frame.
    reach = tab.page.locator("#report-campaign-reach canvas")
    if reach.count():
        assert reach.evaluate(DRAWN_PIXELS) > 500, "chart campaign-reach drew nothing"
    else:
        assert tab.page.locator("#report-campaign-reach .empty").is_visible()
    tab.shot("reports")
    csv = tab.page.evaluate(
        "async () => (await fetch('/console/reports/transfers.csv?days=7')).text()")
    lines = csv.splitlines()
    assert lines[0] == "reason,transfers"
    assert "e2e_outage,2" in lines[1:]
    tab.page.select_option("#days", "30")
    tab.page.focus("#days")
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("() => document.activeElement.textContent") == "Show"
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/console/reports?days=30")
    tab.check()
