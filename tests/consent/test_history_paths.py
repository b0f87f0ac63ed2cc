"""Every path that writes customers' personal data leaves a history row with actor, purpose, reason.

Paths: the signup form, the admin change forms (customer and login), a service call, a bulk
update (``customers_bulk_update`` → ``bulk_update_tracked``) and a management command. The paths
that would skip history (``QuerySet.update()``, plain ``bulk_update()``, a write with no access
context) raise; saving something unchanged adds no history row.
"""

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Customer, User
from accounts.services import customer_update, customers_bulk_update
from consent.context import Channel, MissingAccessContext, access_context
from consent.history import HistoryBypassError, bulk_create_tracked
from tests.accesslog import rows
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def last_history(obj):
    """Return (type, actor id, purpose, reference, reason, channel) of obj's newest history row."""
    record = obj.history.order_by("-history_id").first()
    return (
        record.history_type,
        record.history_user_id,
        record.history_purpose,
        record.history_reference,
        record.history_change_reason,
        record.history_channel,
    )


def test_signup_form(client, policy):
    response = client.post(
        reverse("accounts:signup"),
        {
            "business_name": "Công ty TNHH Hoa Sen",
            "contact_person": "Nguyễn Văn An",
            "phone": "0912 345 678",
            "email": "an@example.com",
            "password1": "mat-khau-rat-dai-2026",
            "password2": "mat-khau-rat-dai-2026",
            "accept_policy": "on",
            "policy_version": policy.label,
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    # The customer acts on their own data: no purpose.
    assert last_history(customer) == ("+", customer.user_id, "", "", "signup", "portal")
    assert last_history(customer.user) == ("+", customer.user_id, "", "", "signup", "portal")


def test_admin_customer_change_form(client, support_user, declare, edit_version, customer):
    client.force_login(support_user)
    declare(client, "customer_care", "T-7")
    url = f"/admin/accounts/customer/{customer.pk}/change/"
    loaded = edit_version(client, url)
    response = client.post(
        url,
        {
            **loaded,
            "business_name": "Công ty TNHH Hoa Sen",
            "contact_person": "Trần Thị Bình",
            "phone": "0912 345 679",
            "email": "new@example.com",
            "change_reason": "Ticket 7",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    expected = ("~", support_user.pk, "customer_care", "T-7", "Ticket 7", "admin")
    assert last_history(customer) == expected
    assert last_history(customer.user) == expected
    assert customer.history.count() == 2 and customer.user.history.count() == 2
    # One access row for the one change of this customer, naming every personal field changed.
    assert rows(channel="admin", action="change") == [
        (
            support_user.pk,
            customer.pk,
            "customer_care",
            "T-7",
            "change",
            "contact_person,email,phone",
            "admin",
            "allowed",
        ),
    ]


def test_admin_change_form_requires_a_reason(client, support_user, declare, customer):
    client.force_login(support_user)
    declare(client, "customer_care")
    response = client.post(
        f"/admin/accounts/customer/{customer.pk}/change/",
        {
            "business_name": "X",
            "contact_person": "Y",
            "phone": "0912345679",
            "email": customer.user.email,
            "change_reason": "",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["change_reason"] == ["Say why you are making this change."]
    assert customer.history.count() == 1


def test_admin_change_form_field_errors_are_translated(client, support_user, declare, customer):
    client.force_login(support_user)
    declare(client, "customer_care")
    response = client.post(
        f"/admin/accounts/customer/{customer.pk}/change/",
        {
            "business_name": "X",
            "contact_person": "Y",
            "phone": "12",
            "email": customer.user.email,
            "change_reason": "",
        },
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["change_reason"] == ["Hãy cho biết lý do bạn thực hiện thay đổi này."]
    assert "phone" in errors
    assert customer.history.count() == 1


def test_admin_change_form_unchanged_adds_no_history(
    client, support_user, declare, edit_version, customer
):
    client.force_login(support_user)
    declare(client, "customer_care")
    url = f"/admin/accounts/customer/{customer.pk}/change/"
    loaded = edit_version(client, url)
    response = client.post(
        url,
        {
            **loaded,
            "business_name": customer.business_name,
            "contact_person": customer.contact_person,
            "phone": "0912 345 678",
            "email": customer.user.email,
            "change_reason": "no-op",
        },
    )
    assert response.status_code == 302
    assert customer.history.count() == 1 and customer.user.history.count() == 1
    assert rows(channel="admin", action="change") == []


def test_admin_login_change_form(client, superuser, declare, edit_version, customer):
    client.force_login(superuser)
    declare(client, "complaints", "K-1")
    user = customer.user
    url = f"/admin/accounts/user/{user.pk}/change/"
    loaded = edit_version(client, url)
    response = client.post(
        url,
        {
            **loaded,
            "email": "doi.email@example.com",
            "language": "en",
            "is_active": "on",
            "change_reason": "Customer asked by phone",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.email == "doi.email@example.com"
    assert last_history(user) == (
        "~",
        superuser.pk,
        "complaints",
        "K-1",
        "Customer asked by phone",
        "admin",
    )
    assert rows(channel="admin", action="change") == [
        (superuser.pk, customer.pk, "complaints", "K-1", "change", "email", "admin", "allowed")
    ]
    # Django's own admin log (shown on the admin index) keeps the name masked, not the email.
    assert [e.object_repr for e in LogEntry.objects.all()] == ["d***@example.com"]


def test_service_call(support_user, customer):
    with access_context(
        actor=support_user, channel=Channel.COMMAND, purpose="customer_care", reason="Phone call"
    ):
        changed = customer_update(customer=customer, contact_person="Lê Văn Cường")
    assert changed == ["contact_person"]
    assert last_history(customer) == (
        "~",
        support_user.pk,
        "customer_care",
        "",
        "Phone call",
        "command",
    )


def test_service_call_with_nothing_changed_adds_no_history(support_user, customer):
    with access_context(actor=support_user, channel=Channel.COMMAND, purpose="customer_care"):
        assert customer_update(customer=customer, contact_person="Nguyễn Văn An") == []
        assert customer.save_tracked() == []
    assert customer.history.count() == 1


def test_bulk_update(account_manager):
    customers = [make_customer(phone=f"+8491234567{i}") for i in range(3)]
    for c in customers:
        c.contact_person = "Phạm Thị Dung"
    with access_context(
        actor=account_manager,
        channel=Channel.COMMAND,
        purpose="licensing",
        reference="IMPORT-3",
        reason="Bulk import",
    ):
        assert customers_bulk_update(customers=customers, fields=["contact_person"]) == 3
    for c in customers:
        assert last_history(c) == (
            "~",
            account_manager.pk,
            "licensing",
            "IMPORT-3",
            "Bulk import",
            "command",
        )
        assert c.history.count() == 2
    assert len(rows(action="change")) == 3


def test_command_seed_demo():
    call_command("seed_demo", customers=2, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Customer.objects.count() == 2
    for customer in Customer.objects.all():
        # customer_register makes the new login the actor of its own signup (no purpose).
        assert last_history(customer) == ("+", customer.user_id, "", "", "seed_demo", "command")


def test_command_createsuperuser(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-password-2026")
    call_command("createsuperuser", interactive=False, email="boss@excelcrm.example", verbosity=0)
    user = User.objects.get(email="boss@excelcrm.example")
    assert last_history(user) == ("+", None, "", "", "createsuperuser", "command")


def test_queryset_update_raises(customer):
    with pytest.raises(HistoryBypassError):
        Customer.objects.filter(pk=customer.pk).update(contact_person="X")
    with pytest.raises(HistoryBypassError):
        User.objects.filter(pk=customer.user_id).update(email="x@example.com")
    customer.refresh_from_db()
    assert customer.contact_person == "Nguyễn Văn An"


def test_plain_bulk_update_raises(customer):
    customer.contact_person = "X"
    with pytest.raises(HistoryBypassError):
        Customer.objects.bulk_update([customer], ["contact_person"])
    assert customer.history.count() == 1


def test_write_without_context_raises(customer):
    customer.contact_person = "Không có ngữ cảnh"
    with pytest.raises(MissingAccessContext):
        customer.save()
    customer.refresh_from_db()
    assert customer.contact_person == "Nguyễn Văn An"


def test_bulk_update_skips_objects_that_did_not_change(account_manager):
    customers = [make_customer(phone=f"+8491234567{i}") for i in range(3)]
    customers[0].contact_person = "Phạm Thị Dung"
    customers[1].contact_person = customers[1].contact_person  # same value
    with access_context(actor=account_manager, channel=Channel.COMMAND, purpose="licensing"):
        assert customers_bulk_update(customers=customers, fields=["contact_person"]) == 1
    assert [c.history.count() for c in customers] == [2, 1, 1]
    assert [r[1] for r in rows(action="change")] == [customers[0].pk]


def new_logins(n):
    users = [User(email=f"bulk{i}@example.com", language="vi") for i in range(n)]
    for user in users:
        user.set_unusable_password()
    return users


def test_plain_bulk_create_raises_with_or_without_context(customer):
    with pytest.raises(HistoryBypassError):
        User.objects.bulk_create(new_logins(1))
    with access_context(actor=None, channel=Channel.COMMAND, reason="import"):
        with pytest.raises(HistoryBypassError):
            User.objects.bulk_create(new_logins(1))
        with pytest.raises(HistoryBypassError):
            Customer.objects.bulk_create(
                [Customer(user=customer.user, business_name="B", contact_person="P",
                          phone="+84912345679")]
            )
    assert User.objects.count() == 1 and Customer.objects.count() == 1


def test_upsert_through_bulk_create_raises_even_on_the_tracked_path(customer):
    clash = Customer(
        id=customer.pk, user=customer.user, business_name="X", contact_person="Đổi tên",
        phone="+84912345679",
    )
    with access_context(actor=None, channel=Channel.COMMAND, reason="import"):
        with pytest.raises(HistoryBypassError):
            Customer.objects.bulk_create(
                [clash], update_conflicts=True, unique_fields=["id"],
                update_fields=["contact_person"],
            )
    customer.refresh_from_db()
    assert customer.contact_person == "Nguyễn Văn An"
    assert customer.history.count() == 1


def test_bulk_create_tracked_writes_history_from_the_context(account_manager):
    with access_context(
        actor=account_manager, channel=Channel.COMMAND, purpose="licensing",
        reference="IMPORT-9", reason="Bulk import",
    ):
        users = bulk_create_tracked(new_logins(2))
        customers = bulk_create_tracked(
            [Customer(user=u, business_name=f"Công ty {u.pk}", contact_person="Lê Thị Hoa",
                      phone="+84912345678") for u in users]
        )
    expected = ("+", account_manager.pk, "licensing", "IMPORT-9", "Bulk import", "command")
    for obj in (*users, *customers):
        assert obj.pk is not None
        assert last_history(obj) == expected
        assert obj.history.count() == 1


def test_bulk_create_tracked_needs_a_context():
    with pytest.raises(MissingAccessContext):
        bulk_create_tracked(new_logins(1))
    assert not User.objects.exists()


def test_base_manager_update_raises(customer):
    with pytest.raises(HistoryBypassError):
        Customer._base_manager.filter(pk=customer.pk).update(contact_person="X")
    with pytest.raises(HistoryBypassError):
        User._base_manager.filter(pk=customer.user_id).update(email="x@example.com")
    customer.refresh_from_db()
    assert customer.contact_person == "Nguyễn Văn An"


def test_tracked_base_manager_keeps_related_access_saves_and_history_working(
    support_user, customer
):
    fresh = Customer.objects.get(pk=customer.pk)
    assert fresh.user.customer == fresh  # forward and reverse one-to-one through _base_manager
    fresh.user.refresh_from_db()
    with access_context(actor=support_user, channel=Channel.COMMAND, purpose="customer_care",
                        reason="Phone call"):
        customer_update(customer=fresh, contact_person="Lê Văn Cường", email="moi@example.com")
    assert last_history(fresh)[4] == "Phone call" and last_history(fresh.user)[4] == "Phone call"
    assert fresh.history.first().instance.contact_person == "Lê Văn Cường"
    assert fresh.history.last().instance.user.email == "moi@example.com"


def test_each_objects_history_is_its_own_with_the_manager_built_once():
    # consent.history builds simple-history's manager class once per model instead of on every
    # access; each access must still be bound to its own object.
    first = make_customer(email="first@example.com")
    second = make_customer(email="second@example.com", phone="+84987000111")
    with access_context(actor=None, channel=Channel.COMMAND, reason="history test"):
        customer_update(customer=second, contact_person="Phạm Thị Hai")

    assert type(first.history) is type(second.history) is type(Customer.history)
    assert first.history.count() == 1
    assert second.history.count() == 2
    assert {r.contact_person for r in second.history.all()} == {"Nguyễn Văn An", "Phạm Thị Hai"}
    assert Customer.history.count() == 3
