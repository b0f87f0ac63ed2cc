"""A reviewer, in headless Chromium, answers "who accessed this customer, when and why"."""

import os
import shutil

import pytest

from consent.access import access_record
from consent.context import Channel, access_context
from tests import factories

# Playwright's sync API runs an event loop in this thread; the Django code around it is sync (as
# tests/browser/conftest.py on main does).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is not installed"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


def test_a_reviewer_finds_who_accessed_a_customer_and_prints_the_dossier(
    live_server, browser
):
    customer = factories.make_customer(business_name="Hoa Sen Browser")
    support = factories.make_staff(email="support@excelcrm.example", role="Support")
    reviewer = factories.make_staff(email="reviewer@excelcrm.example", role="Compliance reviewer")
    with access_context(
        actor=support, channel=Channel.ADMIN, purpose="complaints", reference="KN-77"
    ):
        access_record(subjects=[customer], action="view", fields=["phone"])
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{live_server.url}/audit/access/")  # not signed in: the staff sign-in page
    page.fill("#id_username", reviewer.email)
    page.fill("#id_password", factories.PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/audit/access/")
    page.fill("#id_customer", str(customer.pk))
    page.click("button.primary")
    rows = page.locator("#access-rows tbody tr")
    assert rows.count() == 2
    assert "support@excelcrm.example" in rows.first.inner_text()
    assert "KN-77" in rows.first.inner_text()
    page.click(f"#access-rows a[href='/audit/customers/{customer.pk}/']")
    assert "Hoa Sen Browser" in page.locator("h1").inner_text()
    page.emulate_media(media="print")
    assert not page.locator("nav.audit-nav").is_visible()
    assert not page.locator(".reveal-form").first.is_visible()
    assert page.locator("#timeline").is_visible()
    pdf_free_print_text = page.locator("main").inner_text()
    assert "KN-77" in pdf_free_print_text
    context.close()
