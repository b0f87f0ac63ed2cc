"""In real Chromium: pages load nothing from another host and break no Content-Security-Policy.

Every request each page makes is recorded; any host but the portal's own fails the test. Console
messages about a refused (CSP-blocked) script, style or image fail it too, which also proves that
the Django admin works under the strict policy.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.helpers import staff_sign_in
from tests.factories import PASSWORD, make_customer, make_staff

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback: the flush after this test would otherwise drop the data that
    # migrations load (purposes, policy 1.0), which later tests rely on.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _care_request_with_a_thread(customer, staff):
    """An overdue support request with the customer's message, a reply and an internal note."""
    from django.test import override_settings

    from care import services as care_services
    from consent.context import Channel, access_context

    with override_settings(CARE_REQUEST_DUE_WORKING_DAYS=0), \
            access_context(actor=customer.user, channel=Channel.PORTAL):
        request = care_services.care_request_open(
            customer=customer, kind="support", subject="Không in được báo cáo",
            body="Máy in báo lỗi.\nDòng thứ hai.")
    with access_context(actor=staff, channel=Channel.ADMIN, purpose="customer_care"):
        care_services.care_message_add(request=request, body="Đang kiểm tra", internal=True)
        care_services.care_message_add(request=request, body="Chúng tôi đã nhận.")
    return request


def test_pages_request_only_the_portal_and_break_no_csp(live_server, settings, browser):
    settings.RATE_LIMITS = []
    customer = make_customer(email="browser@example.com")
    staff = make_staff(email="browser-admin@excelcrm.example", superuser=True)
    newcomer = make_staff(email="newcomer@excelcrm.example")
    reviewer = make_staff(email="browser-reviewer@excelcrm.example", role="Compliance reviewer")
    care_request = _care_request_with_a_thread(customer, staff)
    own_host = urlparse(live_server.url).netloc
    foreign: list[str] = []
    violations: list[str] = []
    visited: list[str] = []

    contexts = []

    def on_request(request):
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != own_host:
            foreign.append(request.url)

    def watched_page():
        """A page in a fresh browser context whose requests, CSP reports and errors are kept."""
        contexts.append(browser.new_context())
        new = contexts[-1].new_page()
        new.on("request", on_request)
        new.on("console", lambda msg: violations.append(f"{visited[-1:]}: {msg.text}")
               if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
        new.on("pageerror", lambda error: violations.append(str(error)))
        return new

    page = watched_page()

    def visit(path: str) -> None:
        visited.append(path)  # first, so that messages while it loads name this page
        response = page.goto(live_server.url + path)
        assert response is not None and response.status < 400, (path, response.status)
        page.wait_for_load_state("networkidle")

    for path in ("/signup/", "/policy/", "/account/login/"):
        visit(path)
    # The customer signs in and sees the own page.
    page.fill("#id_username", customer.user.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    visit("/account/")
    assert "browser@example.com" in page.content()

    # Staff: password + one-time code, then the admin pages with their scripts.
    page = admin = watched_page()
    visit("/admin/login/")
    staff_sign_in(admin, staff)
    admin.wait_for_url("**/admin/")
    for path in ("/admin/", "/admin/accounts/customer/",
                 f"/admin/accounts/customer/{customer.pk}/change/",
                 f"/admin/accounts/user/{staff.pk}/change/",
                 f"/admin/accounts/customer/{customer.pk}/history/"):
        visit(path)
    # The user change page's group selector is built by the admin's scripts.
    visit(f"/admin/accounts/user/{newcomer.pk}/change/")
    assert admin.locator(".selector").count() >= 1
    # A care request: its thread (an internal note among the messages) and the overdue marker.
    visit(f"/admin/care/carerequest/{care_request.pk}/change/")
    assert admin.locator("ol.care-thread li.internal").count() == 1
    assert admin.locator(".care-message-body").first.evaluate(
        "el => getComputedStyle(el).whiteSpace") == "pre-wrap"  # the stylesheet applied
    visit("/admin/care/carerequest/?overdue=yes")
    assert admin.locator("strong.overdue").count() == 1

    # A compliance reviewer: password + one-time code, then the audit pages.
    page = watched_page()
    visit("/admin/login/?next=/audit/")
    staff_sign_in(page, reviewer)
    page.wait_for_url("**/audit/")
    for path in ("/audit/", f"/audit/access/?customer={customer.pk}",
                 f"/audit/customers/{customer.pk}/", "/audit/reports/", "/audit/integrity/",
                 "/audit/activity/"):
        visit(path)

    # Enrolment: the QR code is drawn by the portal itself.
    page = watched_page()
    visit("/admin/login/")
    page.fill("#id_username", newcomer.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/security/two-factor/enrol/**")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth") > 0
    for context in contexts:
        context.close()

    assert len(visited) >= 19
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert violations == [], f"CSP violations or script errors: {violations}"
