"""A customer opens a complaint from their account and a support agent answers it, in Chromium."""

import pytest

from care.models import CareRequest
from tests.browser.helpers import staff_sign_in
from tests.factories import PASSWORD, make_customer, make_staff
from tests.work_factories import restore_seed_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_customer_complains_and_support_answers(live_server, browser):
    restore_seed_data()
    customer = make_customer(email="khach@example.com", contact_person="Đỗ Thu Hà")
    agent = make_staff(email="agent@excelcrm.example", role="Support")

    page = browser.new_page(locale="vi-VN")
    page.goto(f"{live_server.url}/account/login/")
    page.fill("input[name=username]", customer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    # (the sign-in page itself redirects to LOGIN_REDIRECT_URL, not set by the foundation)
    page.goto(f"{live_server.url}/account/")
    page.click("#account-links >> text=Hỗ trợ")
    page.click("text=Đặt câu hỏi hoặc gửi khiếu nại")
    page.select_option("select[name=kind]", "complaint")
    page.fill("input[name=subject]", "")
    page.fill("textarea[name=body]", "Hóa đơn sai")
    page.click("button.primary")
    assert "Trường này là bắt buộc." in page.inner_text(".has-error")
    page.fill("input[name=subject]", "Tính tiền hai lần")
    page.click("button.primary")
    assert "Yêu cầu của quý khách đã được gửi." in page.inner_text(".messages")
    assert "Hóa đơn sai" in page.inner_text("#messages")
    request = CareRequest.objects.get()

    staff = browser.new_page(locale="vi-VN")
    staff.goto(f"{live_server.url}/admin/login/")
    staff_sign_in(staff, agent)
    staff.wait_for_url("**/admin/")
    staff.goto(f"{live_server.url}/admin/care/carerequest/{request.pk}/change/")
    assert "Hóa đơn sai" in staff.content()
    staff.fill("textarea[name=reply]", "Chúng tôi đã hoàn tiền.")
    staff.select_option("select[name=status]", "resolved")
    staff.click("input[name=_save]")
    staff.wait_for_url("**/admin/care/carerequest/")  # saved: the admin went back to the list

    page.reload()
    assert "Chúng tôi đã hoàn tiền." in page.inner_text("#messages")
    assert "đã giải quyết" in page.inner_text("#care-request")
