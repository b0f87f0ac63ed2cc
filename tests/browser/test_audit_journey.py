"""A reviewer, in headless Chromium, answers "who accessed this customer, when and why"."""

import pytest

from consent.access import access_record
from consent.context import Channel, access_context
from tests import factories
from tests.browser.helpers import staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_finds_who_accessed_a_customer_and_prints_the_dossier(page):
    customer = factories.make_customer(business_name="Hoa Sen Browser")
    support = factories.make_staff(email="support@excelcrm.example", role="Support")
    reviewer = factories.make_staff(email="reviewer@excelcrm.example", role="Compliance reviewer")
    with access_context(
        actor=support, channel=Channel.ADMIN, purpose="complaints", reference="KN-77"
    ):
        access_record(subjects=[customer], action="view", fields=["phone"])
    page.goto("/audit/access/")  # not signed in: the staff sign-in page
    staff_sign_in(page, reviewer)
    page.wait_for_url("**/audit/access/")
    page.fill("#id_customer", str(customer.pk))
    page.click("button.primary")
    # The click only asks for the filtered page; wait until it has loaded.
    page.wait_for_url(lambda url: f"customer={customer.pk}" in url)
    rows = page.locator("#access-rows tbody tr")
    assert rows.count() == 2
    assert "support@excelcrm.example" in rows.first.inner_text()
    assert "KN-77" in rows.first.inner_text()
    page.click(f"#access-rows a[href='/audit/customers/{customer.pk}/']")
    page.wait_for_url(f"**/audit/customers/{customer.pk}/")
    assert "Hoa Sen Browser" in page.locator("h1").inner_text()
    page.emulate_media(media="print")
    assert not page.locator("nav.audit-nav").is_visible()
    assert not page.locator(".reveal-form").first.is_visible()
    assert page.locator("#timeline").is_visible()
    assert "KN-77" in page.locator("main").inner_text()
