import pytest

from accounts.models import Customer

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback: a transactional test run before this one flushes the policy versions
    # and purposes that data migrations created; the signup page needs them.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_signup_in_vietnamese_fix_a_bad_phone_then_switch_to_english(page):
    page.goto("/signup/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.fill("#id_business_name", "Công ty TNHH Hoa Sen")
    page.fill("#id_contact_person", "Nguyễn Văn An")
    page.fill("#id_phone", "0912 345")
    page.fill("#id_email", "an.nguyen@example.com")
    page.fill("#id_password1", "mat-khau-rat-dai-2026")
    page.fill("#id_password2", "mat-khau-rat-dai-2026")
    page.check("#id_accept_policy")
    page.click("button.primary")

    error = page.locator("#phone-errors")
    assert "số điện thoại hợp lệ" in error.inner_text()
    assert not Customer.objects.exists()

    page.fill("#id_phone", "0912 345 678")
    page.fill("#id_password1", "mat-khau-rat-dai-2026")
    page.fill("#id_password2", "mat-khau-rat-dai-2026")
    page.check("#id_accept_policy")
    page.click("button.primary")

    page.wait_for_url("**/account/")
    assert "Thông tin chúng tôi lưu về bạn" in page.content()
    assert "+84 912 345 678" in page.locator("#stored-data").inner_text()
    assert page.locator("#purposes li").count() == 5
    assert str(Customer.objects.get().phone) == "+84912345678"

    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "What we store about you" in page.content()
