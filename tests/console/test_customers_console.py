"""Customers in the console: live search, then a customer's journey across channels."""

from __future__ import annotations

from ivr.store.repositories.customers import CustomerRepository
from tests.console.conftest import Browse, Console


def test_search_as_you_type_then_open_the_journey(tab: Browse, console_app: Console) -> None:
    someone = next(c for c in CustomerRepository(console_app.db).page(50)
                   if c.name and len(c.name.split()[-1]) > 3)
    surname = someone.name.split()[-1]
    tab.login(console_app.tokens["viewer"])
    tab.go("/console/customers")
    tab.page.focus("#q")
    tab.page.keyboard.type(surname)
    tab.page.wait_for_function(
        "(n) => [...document.querySelectorAll('#customer-rows a')].every(a => a.textContent"
        ".includes(n)) && document.querySelectorAll('#customer-rows a').length > 0", arg=surname)
    tab.page.click(f"#customer-rows a[href='/console/customers/{someone.id}']")
    tab.page.wait_for_url(f"**/console/customers/{someone.id}")
    assert someone.name in tab.page.locator("h1").inner_text()
    assert tab.page.locator("#journey li").count() >= 1
    tab.shot("customer-journey")
    tab.check()
