"""Idle and absolute session limits, new session keys, password hashing and length rules."""

import time

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent.context import Channel, access_context
from security.middleware import SESSION_ACTIVITY_KEY, SESSION_STARTED_KEY
from security.models import UserSession
from tests.factories import PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def _age_session(client, *, idle: float, since_start: float | None = None) -> None:
    session = client.session
    now = time.time()
    session[SESSION_ACTIVITY_KEY] = now - idle
    session[SESSION_STARTED_KEY] = now - (since_start if since_start is not None else idle)
    session.save()


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_staff_session_survives_29_idle_minutes(client, superuser):
    client.force_login(superuser)
    _age_session(client, idle=29 * 60)
    assert client.get("/admin/").status_code == 200


def test_staff_session_ends_after_30_idle_minutes(client, superuser):
    client.force_login(superuser)
    _age_session(client, idle=30 * 60 + 1)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert not _signed_in(client)


def test_staff_session_ends_after_12_hours_even_when_active(client, superuser):
    client.force_login(superuser)
    _age_session(client, idle=10, since_start=12 * 3600 + 1)
    assert client.get("/admin/").status_code == 302
    assert not _signed_in(client)


def test_staff_session_lives_just_under_12_hours_when_active(client, superuser):
    client.force_login(superuser)
    _age_session(client, idle=10, since_start=12 * 3600 - 60)
    assert client.get("/admin/").status_code == 200


def test_customer_session_survives_119_idle_minutes_and_ends_after_two_hours(client, customer):
    client.force_login(customer.user)
    _age_session(client, idle=119 * 60, since_start=3 * 24 * 3600)
    assert client.get(reverse("accounts:home")).status_code == 200
    _age_session(client, idle=2 * 3600 + 1)
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    assert not _signed_in(client)


def test_every_login_gets_a_new_session_key(client, customer):
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    response = client.post(reverse("accounts:login"),
                           {"username": customer.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.session_key != before
    assert UserSession.objects.filter(user=customer.user,
                                      session_key=client.session.session_key).exists()


def test_privilege_change_ends_the_users_sessions(client, support_user):
    client.force_login(support_user)
    assert client.get("/admin/").status_code == 200
    key = client.session.session_key
    assert UserSession.objects.filter(user=support_user, session_key=key).exists()

    support_user.groups.add(Group.objects.get(name="Account management"))
    assert client.get("/admin/").status_code == 302
    assert not UserSession.objects.filter(session_key=key).exists()


@pytest.mark.parametrize("change", ["is_superuser", "is_staff"])
def test_flag_change_ends_the_users_sessions(client, support_user, change):
    client.force_login(support_user)
    client.get("/admin/")
    setattr(support_user, change, not getattr(support_user, change))
    with access_context(actor=None, channel=Channel.COMMAND):
        support_user.save()
    assert client.get("/admin/").status_code == 302
    assert not _signed_in(client)


def test_unrelated_save_keeps_the_session(client, support_user):
    client.force_login(support_user)
    client.get("/admin/")
    support_user.language = "en"
    with access_context(actor=None, channel=Channel.COMMAND):
        support_user.save()
    assert client.get("/admin/").status_code == 200


def test_admin_changing_another_users_groups_in_the_admin_ends_that_users_session(
    client, superuser, support_user
):
    victim = client.__class__()
    victim.force_login(support_user)
    assert victim.get("/admin/").status_code == 200
    client.force_login(superuser)
    page = client.get(reverse("admin:accounts_user_change", args=[support_user.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"groups": [Group.objects.get(name="Compliance reviewer").pk],
                 "change_reason": "ticket 42"})
    for name in ("is_active", "is_staff"):
        data[name] = "on"
    data.pop("is_superuser", None)
    response = client.post(reverse("admin:accounts_user_change", args=[support_user.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert victim.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200  # the acting admin stays signed in


def test_argon2_is_the_first_password_hasher():
    from excelcrm import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_staff_passwords_need_10_characters_customers_follow_the_default(customer):
    staff = make_staff(email="new-staff@excelcrm.example")
    with pytest.raises(ValidationError) as error:
        password_validation.validate_password("Xy7#kq9!z", staff)
    assert "staff_password_too_short" in [e.code for e in error.value.error_list]
    password_validation.validate_password("Xy7#kq9!zW", staff)
    password_validation.validate_password("Xy7#kq9!z", customer.user)


# -- a group's permissions or purposes change: every member signs in again -----------------------

def _permission(codename):
    from django.contrib.auth.models import Permission

    return Permission.objects.get(codename=codename)


def _purpose_not_granted_to(group):
    from consent.models import Purpose

    return Purpose.objects.exclude(groups=group).first()


GROUP_CHANGES = {
    "group.permissions.add": lambda g: g.permissions.add(_permission("change_group")),
    "group.permissions.remove": lambda g: g.permissions.remove(g.permissions.first()),
    "group.permissions.clear": lambda g: g.permissions.clear(),
    "permission.group_set.add": lambda g: _permission("change_group").group_set.add(g),
    "permission.group_set.clear": lambda g: g.permissions.first().group_set.clear(),
    "purpose.groups.add": lambda g: _purpose_not_granted_to(g).groups.add(g),
    "purpose.groups.remove": lambda g: g.purposes.first().groups.remove(g),
    "purpose.groups.clear": lambda g: g.purposes.first().groups.clear(),
    "group.purposes.add": lambda g: g.purposes.add(_purpose_not_granted_to(g)),
    "group.purposes.set": lambda g: g.purposes.set([]),
    "group.delete": lambda g: g.delete(),
}


@pytest.mark.parametrize("change", sorted(GROUP_CHANGES))
def test_a_change_to_a_members_group_ends_the_members_sessions(client, support_user,
                                                                superuser, change):
    bystander = client.__class__()
    bystander.force_login(superuser)  # in no group: keeps the session
    client.force_login(support_user)
    assert client.get("/admin/").status_code == 200
    key = client.session.session_key
    group = support_user.groups.get()
    assert group.permissions.exists() and group.purposes.exists()
    GROUP_CHANGES[change](group)
    assert client.get("/admin/").status_code == 302
    assert not _signed_in(client)
    assert not UserSession.objects.filter(session_key=key).exists()
    assert bystander.get("/admin/").status_code == 200


def test_a_change_that_changes_nothing_keeps_the_sessions(client, support_user):
    client.force_login(support_user)
    client.get("/admin/")
    group = support_user.groups.get()
    group.permissions.add(group.permissions.first())  # already there
    group.purposes.add(group.purposes.first())
    assert client.get("/admin/").status_code == 200


def test_a_group_clear_of_its_users_ends_their_sessions(client, support_user):
    client.force_login(support_user)
    client.get("/admin/")
    support_user.groups.get().user_set.clear()
    assert client.get("/admin/").status_code == 302


def test_editing_a_groups_permissions_in_the_admin_ends_the_members_sessions(
    client, superuser, support_user
):
    member = client.__class__()
    member.force_login(support_user)
    assert member.get("/admin/").status_code == 200
    group = support_user.groups.get()
    client.force_login(superuser)
    url = reverse("admin:auth_group_change", args=[group.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["permissions"] = [*data.get("permissions", []), _permission("change_group").pk]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert member.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200
