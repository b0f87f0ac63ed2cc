"""Staff passwords have at least 10 characters, however the staff login comes about."""

import builtins
import io

import pytest
from django.contrib.auth import password_validation
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD
from tests.security.helpers import admin_login, enrolled_device, totp_code

pytestmark = pytest.mark.django_db

SHORT = "Qz7#kLm2p"  # 9 characters: enough for a customer, not for staff
LONG = "Qz7#kLm2p-long-enough"


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _interactive(monkeypatch, passwords, answers):
    from django.contrib.auth.management.commands import createsuperuser

    passwords, answers = iter(passwords), iter(answers)
    monkeypatch.setattr(createsuperuser.getpass, "getpass", lambda prompt="": next(passwords))
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    call_command("createsuperuser", interactive=True, email="root2@excelcrm.example",
                 stdin=TTY(), stdout=io.StringIO(), stderr=(errors := io.StringIO()))
    return errors.getvalue()


def test_createsuperuser_noinput_refuses_a_short_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", SHORT)
    with pytest.raises(CommandError, match="10"):
        call_command("createsuperuser", "--noinput", "--email", "root2@excelcrm.example",
                     stdout=io.StringIO())
    assert not User.objects.filter(email="root2@excelcrm.example").exists()


def test_createsuperuser_noinput_accepts_a_long_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", LONG)
    call_command("createsuperuser", "--noinput", "--email", "root2@excelcrm.example",
                 stdout=io.StringIO())
    user = User.objects.get(email="root2@excelcrm.example")
    assert user.is_superuser and user.check_password(LONG)


def test_createsuperuser_prompt_checks_the_staff_rule_and_asks_again(monkeypatch):
    # A short password (twice, as typed and confirmed): refused; "N" to the bypass; then a
    # long one.
    errors = _interactive(monkeypatch, [SHORT, SHORT, LONG, LONG], ["N"])
    assert "10" in errors
    assert User.objects.get(email="root2@excelcrm.example").check_password(LONG)


def test_createsuperuser_prompt_bypass_does_not_store_a_short_staff_password(monkeypatch):
    with pytest.raises(CommandError, match="10"):
        _interactive(monkeypatch, [SHORT, SHORT], ["y"])
    assert not User.objects.filter(email="root2@excelcrm.example").exists()


def test_customers_still_follow_the_default_minimum(customer):
    password_validation.validate_password(SHORT, customer.user)  # no error


# -- a login made staff after it was created, with a short password -----------------------------

@pytest.fixture
def promoted(customer):
    """A customer's login promoted to staff: its password was only checked as a customer's."""
    from consent.context import Channel, access_context

    user = customer.user
    with access_context(actor=None, channel=Channel.COMMAND):
        user.set_password(SHORT)
        user.is_staff = True
        user.save()
    return user


@pytest.mark.real_otp
def test_staff_sign_in_with_a_password_below_the_staff_rule_must_change_it_first(client,
                                                                                  promoted):
    device = enrolled_device(promoted)
    response = admin_login(client, promoted, password=SHORT, token=totp_code(device))
    assert response.status_code == 302
    change = reverse("admin:password_change")
    for path in (reverse("admin:index"), "/admin/accounts/customer/", "/audit/"):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith(change), path
    assert client.get(change).status_code == 200
    done = client.post(change, {"old_password": SHORT, "new_password1": LONG,
                                "new_password2": LONG})
    assert done.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.real_otp
def test_the_password_change_page_itself_keeps_the_staff_rule(client, promoted):
    device = enrolled_device(promoted)
    admin_login(client, promoted, password=SHORT, token=totp_code(device))
    change = reverse("admin:password_change")
    response = client.post(change, {"old_password": SHORT, "new_password1": "Xy9#kLm2q",
                                    "new_password2": "Xy9#kLm2q"})
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    assert client.get(reverse("admin:index"))["Location"].startswith(change)


@pytest.mark.real_otp
def test_staff_with_a_good_password_go_straight_in(client, superuser):
    device = enrolled_device(superuser)
    admin_login(client, superuser, password=PASSWORD, token=totp_code(device))
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.real_otp
def test_a_staff_sign_in_through_the_customer_page_is_checked_too(client, promoted):
    device = enrolled_device(promoted)
    response = client.post(reverse("accounts:login"),
                           {"username": promoted.email, "password": SHORT})
    assert response.status_code == 302
    verified = client.post(reverse("security:verify"), {"otp_token": totp_code(device),
                                                        "next": reverse("admin:index")})
    assert verified.status_code == 302
    page = client.get(reverse("admin:index"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("admin:password_change"))
