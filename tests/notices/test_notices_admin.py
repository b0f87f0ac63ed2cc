import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from consent.models import AccessLog
from notices.admin import queued_entries
from notices.models import Announcement
from tests.factories import make_customer
from tests.work_factories import make_plan, withdraw

pytestmark = pytest.mark.django_db

DATA = {
    "subject_vi": "Bản mới",
    "subject_en": "New release",
    "body_vi": "Nội dung",
    "body_en": "Content",
    "audience": "all",
    "plan": "",
    "licence_status": "",
}


def test_write_preview_and_queue_an_update_notice(client, account_manager, declare):
    make_customer(email="one@example.com")
    withdraw(make_customer(email="two@example.com"), "update_notices")
    client.force_login(account_manager)
    response = client.post(reverse("admin:notices_announcement_add"), DATA)
    assert response.status_code == 302, response.content.decode()[:3000]
    note = Announcement.objects.get()
    assert note.created_by == account_manager and note.state == "draft"
    page = client.get(reverse("admin:notices_announcement_change", args=[note.pk]))
    html = page.content.decode()
    assert "[ExcelCRM] Bản mới" in html and "[ExcelCRM] New release" in html
    assert page.context["adminform"].form.instance.pk == note.pk
    declare(client, "update_notices")
    response = client.post(
        reverse("admin:notices_announcement_changelist"),
        {
            "action": "queue_for_sending",
            "_selected_action": [note.pk],
        },
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.state == "queued"
    [entry] = queued_entries(note)
    assert entry.user == account_manager
    page = client.get(reverse("admin:notices_announcement_change", args=[note.pk]))
    assert f"by {account_manager.email}" in page.content.decode() or (
        f"bởi {account_manager.email}" in page.content.decode()
    )


def queue(client, note):
    return client.post(
        reverse("admin:notices_announcement_changelist"),
        {"action": "queue_for_sending", "_selected_action": [note.pk]},
    )


def test_sending_needs_the_declared_purpose_not_just_the_role(client, account_manager, declare):
    note = Announcement.objects.create(subject_vi="a", subject_en="a", body_vi="b", body_en="b")
    client.force_login(account_manager)
    response = queue(client, note)  # granted by the role, but no purpose declared
    note.refresh_from_db()
    assert note.state == "draft" and not queued_entries(note).exists()
    assert any("update notices" in str(m) or "thông báo cập nhật" in str(m).lower()
               for m in get_messages(response.wsgi_request))
    assert not AccessLog.objects.exists()

    declare(client, "licensing")
    queue(client, note)
    note.refresh_from_db()
    assert note.state == "draft"
    row = AccessLog.objects.get(outcome="denied")
    assert (row.actor_id, row.purpose, row.action) == (account_manager.pk, "licensing", "notify")

    declare(client, "update_notices")
    queue(client, note)
    note.refresh_from_db()
    assert note.state == "queued" and queued_entries(note).get().user == account_manager


def test_audience_needs_its_plan_or_status(client, account_manager):
    client.force_login(account_manager)
    response = client.post(reverse("admin:notices_announcement_add"), {**DATA, "audience": "plan"})
    assert response.status_code == 200
    assert "plan" in response.context["adminform"].form.errors
    response = client.post(
        reverse("admin:notices_announcement_add"), {**DATA, "audience": "licence_status"}
    )
    assert "licence_status" in response.context["adminform"].form.errors
    plan = make_plan()
    response = client.post(
        reverse("admin:notices_announcement_add"), {**DATA, "audience": "plan", "plan": plan.pk}
    )
    assert response.status_code == 302


def test_only_staff_granted_update_notices_may_queue(client, support_user, account_manager):
    note = Announcement.objects.create(subject_vi="a", subject_en="a", body_vi="b", body_en="b")
    from django.contrib.auth.models import Permission

    support_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_announcement", "change_announcement"])
    )
    client.force_login(support_user)
    client.post(
        reverse("admin:notices_announcement_changelist"),
        {
            "action": "queue_for_sending",
            "_selected_action": [note.pk],
        },
    )
    note.refresh_from_db()
    assert note.state == "draft"
    row = AccessLog.objects.get(outcome="denied")
    assert (row.actor_id, row.purpose, row.action) == (support_user.pk, "update_notices", "notify")


def test_sent_notices_show_recipients_only_under_a_notice_purpose(
    client, account_manager, declare
):
    from io import StringIO

    from django.core.management import call_command

    from tests.work_factories import grant

    customer = make_customer(email="recipient@example.com")
    grant(customer, make_plan(), expires_in=7)
    call_command("send_renewal_notices", "--no-progress", stdout=StringIO())
    client.force_login(account_manager)
    url = reverse("admin:notices_notice_changelist")
    masked = client.get(url)
    assert masked.status_code == 200
    assert "recipient@example.com" not in masked.content.decode()
    assert not AccessLog.objects.filter(channel="admin").exists()
    declare(client, "renewal_notices")
    shown = client.get(url)
    assert "recipient@example.com" in shown.content.decode()
    row = AccessLog.objects.get(channel="admin", action="list")
    assert (row.actor_id, row.customer_id, row.purpose, row.fields) == (
        account_manager.pk, customer.pk, "renewal_notices", "email"
    )
    declare(client, "licensing")
    assert client.get(url).status_code == 403


def test_the_audience_count_follows_the_send_rules(client, account_manager):
    from tests.notices.test_restriction import restrict

    make_customer(email="one@example.com")
    make_customer(email="two@example.com")
    withdraw(make_customer(email="left@example.com"), "update_notices")
    restrict(make_customer(email="restricted@example.com"))
    note = Announcement.objects.create(
        subject_vi="Bản 5", subject_en="Version 5", body_vi="Mới.", body_en="New."
    )
    client.force_login(account_manager)
    url = reverse("admin:notices_announcement_change", args=[note.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "2 customers to send to; not sent: 0 already sent, 1 withdrew consent to update notices,"
        " 1 under a restriction"
    ) in html
    note.audience = "plan"
    note.save()
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Choose the plan whose customers should get this notice." in html
