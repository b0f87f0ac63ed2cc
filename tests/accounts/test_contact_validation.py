"""Every email and phone field validates the value as it will be stored; errors are translated.

Normalising lowercases the domain after ``EmailField`` validated it: ``a@`` + ``İ`` × 40 +
``.vn`` is valid as typed but stored with an 80-character label (``İ`` lowercases to two code
points), which the model refuses (a 500 from the service) and IDNA cannot encode (a 500 when the
confirmation mail is sent). The uniqueness checks compare as the ``Lower(email)`` constraint does.
"""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from accounts.models import Customer, User
from tests.accesslog import rows
from tests.accounts.test_signup import signup_data
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

STRETCHED = "a@" + "İ" * 40 + ".vn"
BAD_AFTER_NORMALISING = [
    STRETCHED,
    "a@" + ".".join(["İ" * 60] * 4) + ".vn",  # 254 characters typed, 490 stored
    # Valid for Django's validator, but mail cannot carry it (the encoded header would fold).
    "İ" * 64 + "@" + "b" * 63 + ".example.com",
]


@pytest.mark.parametrize("email", BAD_AFTER_NORMALISING)
def test_signup_refuses_an_email_that_breaks_once_normalised(client, policy, email):
    client.raise_request_exception = True
    response = client.post(reverse("accounts:signup"), signup_data(policy, email=email))
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not User.objects.exists()


def test_signup_error_for_such_an_email_is_in_vietnamese(client, policy):
    response = client.post(reverse("accounts:signup"), signup_data(policy, email=STRETCHED))
    assert response.context["form"].errors["email"] == ["Hãy nhập địa chỉ email hợp lệ."]


def test_the_model_refuses_such_an_email_too(db):
    with pytest.raises(ValidationError) as info:
        User(email=STRETCHED).full_clean(exclude=["password"])
    assert "email" in info.value.message_dict


def test_a_real_international_domain_is_still_accepted(client, policy):
    response = client.post(reverse("accounts:signup"), signup_data(policy, email="An@Bücher.VN"))
    assert response.status_code == 302
    assert User.objects.get().email == "An@bücher.vn"


# -- uniqueness as the database compares ----------------------------------------------------


def db_lower_equal(a, b):
    with connection.cursor() as cursor:
        cursor.execute("SELECT LOWER(%s) = LOWER(%s)", [a, b])
        return bool(cursor.fetchone()[0])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # PostgreSQL: upper('İ') is 'İ' but lower('İ') is 'i': iexact (UPPER) said "free", the
        # Lower(email) constraint said "taken", and the signup answered 500.
        ("ix.test@example.com", "İx.test@example.com"),
        # The Kelvin sign: NFC makes it a plain K before anything compares it.
        ("kelvin.test@example.com", "\u212aelvin.test@example.com"),
        ("an.nguyen@example.com", "AN.Nguyen@EXAMPLE.com"),
    ],
)
def test_signup_uniqueness_check_agrees_with_the_database_constraint(
    client, policy, first, second
):
    client.raise_request_exception = True
    first_signup = client.post(reverse("accounts:signup"), signup_data(policy, email=first))
    assert first_signup.status_code == 302
    client.logout()
    response = client.post(reverse("accounts:signup"), signup_data(policy, email=second))
    taken = db_lower_equal(first, second.replace("\u212a", "K"))
    if connection.vendor == "postgresql" or second.isascii():
        assert taken
    if taken:
        assert response.status_code == 200
        assert [e.code for e in response.context["form"].errors.as_data()["email"]] == [
            "unavailable"
        ]
        assert User.objects.count() == 1
    else:
        assert response.status_code == 302
        assert User.objects.count() == 2


# -- the admin ------------------------------------------------------------------------------


def post_customer(client, edit_version, customer, **changes):
    url = f"/admin/accounts/customer/{customer.pk}/change/"
    data = {
        **edit_version(client, url),
        "business_name": customer.business_name,
        "contact_person": customer.contact_person,
        "phone": "0912 345 678",
        "email": customer.user.email,
        "change_reason": "T-1",
        **changes,
    }
    return client.post(url, data)


@pytest.fixture
def staff(client, support_user, declare):
    client.raise_request_exception = True
    client.force_login(support_user)
    declare(client, "customer_care", "T-1")
    return support_user


@pytest.mark.parametrize("email", BAD_AFTER_NORMALISING)
def test_admin_customer_form_refuses_an_email_that_breaks_once_normalised(
    client, staff, edit_version, customer, email
):
    before = customer.user.email
    response = post_customer(client, edit_version, customer, email=email)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    customer.refresh_from_db()
    assert customer.user.email == before
    assert rows(channel="admin", action="change") == []


def test_admin_customer_form_uniqueness_agrees_with_the_constraint(
    client, staff, edit_version, customer
):
    make_customer(email="ix.other@example.com")
    response = post_customer(client, edit_version, customer, email="İx.other@example.com")
    if db_lower_equal("ix.other@example.com", "İx.other@example.com"):
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors.as_data()["email"]
        assert [e.code for e in errors] == ["email_taken"]
    else:
        assert response.status_code == 302


def test_admin_customer_form_refuses_a_phone_number_with_an_extension(
    client, staff, edit_version, customer
):
    response = post_customer(client, edit_version, customer, phone="0912 345 679 ext 5")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()["phone"]
    assert [e.code for e in errors] == ["extension"]
    customer.refresh_from_db()
    assert str(customer.phone) == "+84912345678"


def test_admin_login_forms_refuse_an_email_that_breaks_once_normalised(
    client, superuser, support_user, edit_version, declare
):
    client.raise_request_exception = True
    client.force_login(superuser)
    url = f"/admin/accounts/user/{support_user.pk}/change/"
    loaded = edit_version(client, url)
    response = client.post(
        url,
        {**loaded, "email": STRETCHED, "language": "vi", "is_active": "on", "is_staff": "on",
         "change_reason": "T-2"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    declare(client, "customer_care")  # Django's add page for logins needs the change permission
    response = client.post(
        "/admin/accounts/user/add/",
        {"email": STRETCHED, "password1": "mat-khau-rat-dai-2026",
         "password2": "mat-khau-rat-dai-2026"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    assert not User.objects.filter(email__startswith="a@").exists()


# -- the customer's own email change --------------------------------------------------------


@pytest.mark.parametrize("email", BAD_AFTER_NORMALISING)
def test_email_change_refuses_an_email_that_breaks_once_normalised(customer_client, email):
    customer_client.raise_request_exception = True
    response = customer_client.post(reverse("accounts:correct"), {"email": email,
                                                                  "change_email": "1"})
    assert response.status_code == 200
    assert response.context["email_form"].errors["email"]
    assert mail.outbox == []
    assert Customer.objects.get().user.email.startswith("customer")


# -- NUL characters ---------------------------------------------------------------------------

NUL_ENGLISH = "Null characters are not allowed."
NUL_VI = "Trường này chứa ký tự không được phép."


@pytest.mark.parametrize(
    "field", ["business_name", "contact_person", "email", "password1", "policy_version"]
)
def test_nul_in_a_signup_field_gets_a_vietnamese_error(client, policy, field):
    data = signup_data(policy)
    data[field] = "Công ty\x00A" if field != "email" else "a\x00b@example.org"
    if field == "password1":
        data["password2"] = data["password1"]
    response = client.post(reverse("accounts:signup"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert NUL_ENGLISH not in html
    assert NUL_VI in response.context["form"].errors[field]
    assert not User.objects.exists()


def test_nul_in_the_admin_customer_form_gets_a_vietnamese_error(
    client, staff, edit_version, customer
):
    response = post_customer(client, edit_version, customer, change_reason="T\x001")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["change_reason"] == [NUL_VI]
    assert NUL_ENGLISH not in response.content.decode()


def test_nul_in_the_email_change_form_gets_a_vietnamese_error(customer_client):
    response = customer_client.post(
        reverse("accounts:correct"), {"email": "a\x00@example.org", "change_email": "1"}
    )
    assert NUL_VI in response.context["email_form"].errors["email"]
    assert NUL_ENGLISH not in response.content.decode()


def test_nul_gets_a_vietnamese_error_on_forms_that_never_asked_for_it(client, db):
    # The message comes from the catalogue, not from each form: Django's own sign-in form
    # (no code of ours touches its fields) answers in Vietnamese too.
    response = client.post(reverse("accounts:login"), {"username": "a\x00b", "password": "x"})
    assert response.status_code == 200
    assert NUL_VI in response.context["form"].errors["username"]
    assert NUL_ENGLISH not in response.content.decode()
