"""Flows in the console: sign in, edit with inline problems, graph, publish, diff, simulate."""

from __future__ import annotations

import re

from tests.console.conftest import Browse, Console

BROKEN_TARGET = "goto: billing-menu"


def test_a_wrong_token_is_refused_and_a_good_one_signs_in(tab: Browse, console_app: Console
                                                         ) -> None:
    tab.go("/console/flows")
    assert "/console/login" in tab.page.url
    tab.page.fill("#token", "ivr_not-a-token")
    tab.page.click("button[type=submit]")
    assert "not valid" in tab.page.locator("[role=alert]").inner_text()
    tab.login(console_app.tokens["admin"])
    rows = tab.page.locator("table tbody tr")
    assert {rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())} == {
        "main-en", "main-ru"}
    tab.shot("flows-list")
    tab.check()


def test_the_cookie_is_httponly_and_cannot_post_without_the_console_header(
    tab: Browse, console_app: Console
) -> None:
    tab.login(console_app.tokens["admin"])
    cookie = next(c for c in tab.page.context.cookies() if c["name"] == "ivr_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    status = tab.page.evaluate(
        "async () => (await fetch('/api/flows/main-en/rollback', {method: 'POST'})).status")
    assert status == 403
    assert [p for p in tab.problems if "403" in p] == [tab.problems.pop()]  # that one, expected
    listed = tab.page.evaluate("async () => (await fetch('/api/flows')).status")
    assert listed == 200
    tab.check()


def test_editing_shows_a_validation_error_at_its_line(tab: Browse, console_app: Console) -> None:
    tab.login(console_app.tokens["admin"])
    tab.go("/console/flows/main-en")
    tab.page.wait_for_selector("#validity.ok")
    assert tab.page.locator("#graph svg .node").count() > 5
    text = tab.page.input_value("#yaml")
    line = text.splitlines().index(next(t for t in text.splitlines() if BROKEN_TARGET in t)) + 1
    tab.page.fill("#yaml", text.replace(BROKEN_TARGET, "goto: billing-menuu", 1))
    tab.page.wait_for_selector("#validity.bad")
    issue = tab.page.locator("#issues .issue").first
    assert f"line {line}," in issue.inner_text() and "billing-menuu" in issue.inner_text()
    assert tab.page.locator("#gutter .bad").first.inner_text() == str(line)
    tab.shot("flow-editor-error")
    issue.click()  # jumps to the problem in the editor
    caret = tab.page.evaluate("() => document.getElementById('yaml').selectionStart")
    assert text[:caret].count("\n") == line - 1
    tab.check()


def test_save_publish_and_diff_a_new_version(tab: Browse, console_app: Console) -> None:
    tab.login(console_app.tokens["admin"])
    tab.go("/console/flows/main-en")
    tab.page.wait_for_selector("#validity.ok")
    text = tab.page.input_value("#yaml")
    tab.page.fill("#yaml", text.replace("Northwind Energy main menu (English)",
                                        "Northwind Energy main menu (English, edited)", 1))
    tab.page.click("#save-btn")
    tab.page.wait_for_url(re.compile(r".*\?version=2$"))
    assert tab.page.locator("#state-badge").inner_text() == "validated"
    tab.page.click("#publish-btn")
    assert tab.page.locator("#confirm").is_visible()
    tab.page.click("#confirm-ok")
    tab.page.wait_for_selector("#state-badge.state-published")
    tab.page.select_option("#diff-a", "1")
    tab.page.select_option("#diff-b", "2")
    tab.page.click("#diff-form button[type=submit]")
    tab.page.wait_for_selector("#diff-out .add")
    assert "edited" in tab.page.locator("#diff-out .add").last.inner_text()
    tab.shot("flow-published-diff")
    tab.check()


def test_the_simulator_runs_a_call_through_the_menu_and_lights_the_path(
    tab: Browse, console_app: Console
) -> None:
    tab.login(console_app.tokens["viewer"])
    tab.go("/console/flows/main-en?version=1")
    tab.page.wait_for_selector("#validity.ok")
    tab.page.click(".keypad .key[data-key='2']")
    assert tab.page.input_value("#sim-inputs") == "2"
    tab.page.click("#sim-run")
    tab.page.wait_for_selector(".transcript")
    transcript = tab.page.locator(".transcript").inner_text()
    assert "caller pressed 2" in transcript
    assert "Thank you for calling Northwind Energy" in transcript  # the prompt, as text
    lit = tab.page.eval_on_selector_all("#graph .node.lit", "ns => ns.map(n => n.dataset.node)")
    assert "main-menu" in lit and "outage" in lit
    audio = tab.page.locator(".transcript audio").first.get_attribute("src")
    assert audio is not None
    status = tab.page.evaluate(f"async () => (await fetch('{audio}')).status")
    assert status == 200
    tab.shot("flow-simulator")
    tab.check()


def test_keyboard_reaches_every_simulator_control_in_order(tab: Browse, console_app: Console
                                                          ) -> None:
    tab.login(console_app.tokens["viewer"])
    tab.go("/console/flows/main-en")
    tab.page.focus("#sim-caller")
    order = []
    for _ in range(4):
        tab.page.keyboard.press("Tab")
        order.append(tab.page.evaluate("() => document.activeElement.id || "
                                       "document.activeElement.dataset.key"))
    assert order == ["sim-dnis", "sim-inputs", "1", "2"]
    tab.page.focus("#sim-inputs")
    tab.page.keyboard.type("1")
    tab.page.keyboard.press("Enter")  # Enter submits the simulator form
    tab.page.wait_for_selector(".transcript")
    tab.check()
