"""/metrics on a running `ivr serve`: Prometheus text, no token; after one call placed with
`ivr call` (the emulated Asterisk, FastAGI + AudioSocket) it shows that call counted by its
outcome, one key -> next action observation and the AudioSocket sessions it used."""

from __future__ import annotations

import re

import httpx

from tests.processes import Served


def scrape(served: Served) -> dict[str, float]:
    response = httpx.get(f"http://127.0.0.1:{served.ports['IVR_HTTP_PORT']}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_a_call_shows_in_metrics_by_outcome_with_its_key_latency(running: Served) -> None:
    before = scrape(running)
    assert before.get("ivr_active_calls") == 0
    assert not any(name.startswith("ivr_calls_total{") for name in before)
    # the main menu answers 2 with the outage status, then asks "anything else?": 0 = agent
    placed = running.call("--input", "dtmf:2", "--input", "dtmf:0", "--json")
    assert placed.returncode == 0, placed.stdout + placed.stderr
    after = scrape(running)
    outcomes = {re.sub(r'.*outcome="([^"]*)".*', r"\1", name): value
                for name, value in after.items() if name.startswith("ivr_calls_total{")}
    assert sum(outcomes.values()) == 1, outcomes
    assert after["ivr_key_to_action_seconds_count"] >= 2  # both keys acted on, each observed
    assert after["ivr_key_to_action_seconds_bucket{le=\"+Inf\"}"] >= 2
    assert after["ivr_audiosocket_sessions_opened_total"] >= 2
    assert after["ivr_active_calls"] == 0
    assert after["ivr_db_statement_seconds_count"] > before["ivr_db_statement_seconds_count"]
    assert after["ivr_crm_lookup_seconds_count"] == 1
    # the loop's own lateness is sampled all along (what every call waits on under load)
    assert after["ivr_event_loop_lag_seconds_count"] > before["ivr_event_loop_lag_seconds_count"]
