"""A customer exercises their rights from the browser, end to end."""

import json

import pytest

from accounts.models import Customer
from consent.models import AccessLog, ConsentRecord
from consent.selectors import consent_allows
from rights.models import DataSubjectRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signup_access_log_correct_download_withdraw_and_request_erasure(page):
    page.goto("/signup/")
    page.fill("#id_business_name", "Công ty TNHH Sen Vàng")
    page.fill("#id_contact_person", "Lê Thị Mai")
    page.fill("#id_phone", "0912 345 678")
    page.fill("#id_email", "mai.le@example.com")
    page.fill("#id_password1", "mat-khau-rat-dai-2026")
    page.fill("#id_password2", "mat-khau-rat-dai-2026")
    page.check("#id_accept_policy")
    page.click("button.primary")
    page.wait_for_url("**/account/")
    customer = Customer.objects.get()

    # Who used my data: nobody from staff yet; my own signup and views on the "me" tab.
    page.click("text=Ai đã sử dụng dữ liệu của tôi và vì sao")
    page.wait_for_url("**/account/access-log/")
    assert page.locator("#access-log-empty").is_visible()
    page.click("text=Do bạn sử dụng")
    # The click only asks for the tab's page; wait until it has loaded.
    page.wait_for_url(lambda url: url.endswith("/account/access-log/?who=me"))
    assert page.locator("#access-log tr").count() >= 3

    # Correct the phone.
    page.click("nav.account-nav >> text=Sửa dữ liệu của tôi")
    page.fill("#id_phone", "0987 654 321")
    page.click("button[name=save_contact]")
    page.wait_for_url("**/account/correct/")
    assert "Dữ liệu của bạn đã được sửa." in page.content()
    customer.refresh_from_db()
    assert str(customer.phone) == "+84987654321"
    assert customer.history.first().history_user_id == customer.user_id

    # Download my data (JSON).
    page.click("nav.account-nav >> text=Tải dữ liệu của tôi")
    with page.expect_download() as info:
        page.click("#download-json")
    data = json.loads(open(info.value.path(), encoding="utf-8").read())
    assert data["account"]["phone"] == "+84987654321"
    assert AccessLog.objects.filter(customer_id=customer.pk, action="export").count() == 1

    # Withdraw update notices.
    page.click("nav.account-nav >> text=Sự đồng ý")
    page.uncheck("#id_update_notices")
    page.click("#purpose-update_notices button.primary")
    page.wait_for_url("**/account/consents/")
    assert "Đã tắt thông báo cập nhật" in page.content()
    assert not consent_allows(customer=customer, purpose_code="update_notices")
    assert ConsentRecord.objects.filter(customer=customer, kind="withdrawn").count() == 1

    # Request erasure.
    page.click("nav.account-nav >> text=Yêu cầu của tôi")
    page.select_option("#id_kind", "erasure")
    page.fill("#id_reason", "Chúng tôi ngừng sử dụng ExcelCRM.")
    page.click("#request-form button.primary")
    page.wait_for_url("**/account/requests/")
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.status) == ("erasure", "received")
    row = page.locator(f"#request-{request.pk}")
    assert "xoá dữ liệu" in row.inner_text() and "đã nhận" in row.inner_text()
