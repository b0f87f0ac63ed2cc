"""Request texts and times as the customer and staff see them: limits, clocks, export times."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent.context import Channel, access_context
from rights import services
from rights.erasure import customer_erase
from rights.models import DataSubjectRequest
from tests.accounts.test_account_pages import staff_reads
from tests.rights.test_erasure import leftovers

pytestmark = pytest.mark.django_db

EXTENSION_REASON = "Chờ xác minh với chị Lan ở số 0912 000 777"


def file(customer, kind="access"):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        return services.request_file(customer=customer, kind=kind, reason="")


def test_too_long_extension_reason_is_a_field_error_and_nothing_is_cut(
    client, customer, support_user, declare
):
    request = file(customer)
    client.force_login(support_user)
    declare(client, "complaints")
    url = reverse("admin:rights_datasubjectrequest_handle", args=[request.pk])

    response = client.post(url, {"step": "extend", "days": "5", "note": "y" * 501})

    assert response.status_code == 200
    assert "500" in " ".join(response.context["form"].errors["note"])
    request.refresh_from_db()
    assert request.extended_at is None and request.extension_reason == ""
    response = client.post(url, {"step": "extend", "days": "5", "note": "y" * 500})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.extension_reason == "y" * 500


def test_the_extend_service_refuses_a_reason_longer_than_it_stores(customer, support_user):
    request = file(customer)
    with (
        access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"),
        pytest.raises(ValidationError) as error,
    ):
        services.request_extend(request=request, actor=support_user, days=5, reason="z" * 501)
    assert "reason" in error.value.message_dict
    request.refresh_from_db()
    assert request.extended_at is None


def test_the_extension_reason_is_erased(customer, support_user):
    request = file(customer, kind="erasure")
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        services.request_extend(
            request=request, actor=support_user, days=5, reason=EXTENSION_REASON
        )
        assert leftovers([EXTENSION_REASON])
        customer_erase(customer=customer, request=request, approved_by=support_user)
    assert leftovers([EXTENSION_REASON]) == []
    assert DataSubjectRequest.objects.get(pk=request.pk).extension_reason == "[erased]"


def test_the_requests_page_states_the_clocks_of_the_settings(customer_client, settings):
    settings.RIGHTS_ACKNOWLEDGE_WORKING_DAYS = 3
    settings.RIGHTS_COMPLETE_DAYS = 20
    settings.RIGHTS_EXTENSION_MAX_DAYS = 10
    page = customer_client.get(reverse("rights:requests"))
    clocks = page.content.decode().split('id="request-clocks">')[1].split("</p>")[0]
    assert " 3 " in clocks and " 20 " in clocks and " 10 " in clocks
    assert " 2 " not in clocks and " 15 " not in clocks

    response = customer_client.post(reverse("rights:requests"), {"kind": "access"}, follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    assert " 3 " in message and " 2 " not in message


def test_export_access_log_times_are_utc_and_pages_show_local_time(
    customer_client, customer, support_user
):
    staff_reads(customer, support_user, "customer_care")
    customer_client.get(reverse("accounts:download_json"))  # one self-access row to list
    data = json.loads(customer_client.get(reverse("accounts:download_json")).content)
    times = [row["at"] for key in ("by_you", "by_staff") for row in data["access_log"][key]]
    assert len(times) >= 2 and all(t.endswith("+00:00") for t in times)
    assert data["generated_at"].endswith("+00:00")
    printed = customer_client.get(reverse("accounts:download_print")).content.decode()
    assert "+07:00" in printed
    listed = customer_client.get(reverse("accounts:access_log") + "?who=me").context["rows"]
    assert str(listed[0]["at"].tzinfo) == "Asia/Ho_Chi_Minh"
