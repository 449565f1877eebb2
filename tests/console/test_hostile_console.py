"""The console under hostile input in a real browser (issue 13): an injected name never runs,
the pages cannot be framed and still work under the Content-Security-Policy, and a signed-out
session cookie is dead."""

from __future__ import annotations

import httpx
from playwright.sync_api import Dialog
from sqlalchemy import update

from ivr.campaigns.scheduler import first_call
from ivr.store.domain import CampaignSpec, NewContact
from ivr.store.models import CampaignContactRow
from ivr.store.repositories.campaigns import CampaignRepository
from tests.console.conftest import Browse, Console

XSS_NAME = "zz<img src=x onerror=alert(3)>"


def _dialogs(tab: Browse) -> list[str]:
    seen: list[str] = []

    def record(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    tab.page.on("dialog", record)
    return seen


def test_a_hostile_campaign_name_is_shown_as_text_and_never_runs(
    tab: Browse, console_app: Console
) -> None:
    # The name already exists (as the probe had it), so the old code answered with its
    # raw "already exists" fragment.
    CampaignRepository(console_app.db).create(
        CampaignSpec(name=XSS_NAME, kind="outage", message="hello"))
    dialogs = _dialogs(tab)
    tab.login(console_app.tokens["operator"])
    tab.go("/console/campaigns")
    # An attacker does not need the form's pattern; take it away as one would in devtools.
    tab.page.evaluate("() => document.getElementById('campaign-name').removeAttribute('pattern')")
    tab.page.fill("#campaign-name", XSS_NAME)
    tab.page.press("#campaign-name", "Enter")
    alert = tab.page.locator("#new-result [role=alert]")
    alert.wait_for()
    tab.page.wait_for_timeout(300)  # an onerror handler would have fired by now
    assert dialogs == []
    assert XSS_NAME in alert.inner_text()
    assert tab.page.locator("#new-result img").count() == 0
    tab.shot("campaign-hostile-name")
    assert [p for p in tab.problems if "422" in p] == [tab.problems.pop()]  # the refusal
    tab.check()


def test_a_crlf_name_gets_a_reply_from_the_real_server(console_app: Console) -> None:
    # Under uvicorn a CR/LF that reached the HX-Redirect header killed the connection: no reply.
    with httpx.Client(base_url=console_app.base) as client:
        client.post("/console/login", data={"token": console_app.tokens["operator"]})
        reply = client.post("/console/campaigns", headers={"X-IVR-Console": "1"},
                            data={"name": "north\r\nX-Evil: 1", "template": "outage"})
    assert reply.status_code == 422 and "letters, digits" in reply.text
    assert "x-evil" not in reply.headers
    names = [c.name for c in CampaignRepository(console_app.db).all()]
    assert not [n for n in names if "\n" in n or "\r" in n]


def test_console_pages_refuse_to_be_framed(tab: Browse, console_app: Console) -> None:
    tab.page.set_content(f'<iframe id="f" src="{console_app.base}/console/login"></iframe>')
    tab.page.wait_for_timeout(500)
    frame = tab.page.frame_locator("#f")
    assert frame.locator("#token").count() == 0
    # Chromium reports the refusal on the console; that one is expected.
    assert tab.problems and all("frame" in p for p in tab.problems)


def test_every_page_works_under_the_content_security_policy(tab: Browse, console_app: Console
                                                             ) -> None:
    tab.login(console_app.tokens["admin"])
    for path in ("/console/flows", "/console/flows/main-en", "/console/campaigns",
                 "/console/reports", "/console/customers", "/console/customers/1"):
        reply = tab.go(path)
        assert reply is not None and reply.status == 200, path
        assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
        tab.page.wait_for_load_state("networkidle")
    tab.go("/console/flows/main-en")
    tab.page.wait_for_selector("#validity.ok")  # the editor's script ran
    assert tab.page.locator("#graph svg .node").count() > 5
    tab.check()  # a blocked script, style or request is a console error


def test_the_progress_bar_is_drawn_without_inline_styles(tab: Browse, console_app: Console
                                                        ) -> None:
    repo = CampaignRepository(console_app.db)
    campaign = repo.create(CampaignSpec(name="csp-progress", kind="outage", message="hello"))
    people = [NewContact(phone=f"+1202555010{i}") for i in range(4)]
    repo.add_contacts(campaign.id, people, first_call)  # a draft: the dialer leaves it alone
    first = repo.contacts(campaign.id)[0]
    with console_app.db.session() as s:
        s.execute(update(CampaignContactRow).where(CampaignContactRow.id == first.id)
                  .values(state="done", result="confirmed", attempts=1))
    tab.login(console_app.tokens["viewer"])
    reply = tab.go("/console/campaigns/csp-progress")
    assert reply is not None and " style=" not in reply.text()  # the CSP would refuse it
    bar = tab.page.locator("#live .progress")
    bar.locator(".done").wait_for()
    done = tab.page.evaluate("() => document.querySelector('#live .done').offsetWidth")
    assert abs(done - bar.bounding_box()["width"] / 4) <= 2  # 1 of 4 finished: a quarter
    tab.check()


def test_a_cookie_reused_after_sign_out_goes_back_to_sign_in(tab: Browse, console_app: Console
                                                            ) -> None:
    tab.login(console_app.tokens["viewer"])
    before = tab.page.context.cookies()
    tab.page.click("text=Sign out")
    tab.page.wait_for_url("**/console/login")
    tab.page.context.add_cookies(before)  # as a thief with a copy of the cookie would
    tab.go("/console/flows")
    assert "/console/login" in tab.page.url
    status = tab.page.evaluate("async () => (await fetch('/api/flows')).status")
    assert status == 401
    assert [p for p in tab.problems if "401" in p] == [tab.problems.pop()]  # that one, expected
    tab.check()
