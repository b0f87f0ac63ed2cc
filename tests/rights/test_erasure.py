"""Erasure removes a customer's personal values from every table; the skeleton stays."""

import io
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from accounts.models import Customer, User
from accounts.services import customer_update
from audit.models import GateUse
from consent.context import Channel, access_context
from consent.models import AccessLog
from rights import services
from rights.erasure import customer_erase, erased_email
from rights.models import DataSubjectRequest, ErasureRecord
from tests.factories import PASSWORD, make_customer
from tests.rights.backups import backup, restore

pytestmark = pytest.mark.django_db

NAME, NEW_NAME = "Phạm Thị Xoá", "Phạm Thị Mới"
PHONE_DIGITS, NEW_PHONE_DIGITS = "935550123", "935550999"
EMAIL, NEW_EMAIL = "erase.me@example.com", "erase.new@example.com"
REASON = "Xin xoá, số cũ 0935550123"
# Left by the doors the customer and staff go through (sign-in, the app's token, the admin).
USER_AGENT, IP = "XoaBrowser/7.1", "198.51.100.23"
TOKEN_NAME = "Điện thoại của chị Xoá"
CARE_SUBJECT, CARE_BODY = "Không in được hoá đơn Xoá", "Gọi lại giúp tôi, chị Xoá"
CARE_REPLY = "Chào chị Xoá, chúng tôi đang xem"
OLD_VALUES = [
    NAME,
    NEW_NAME,
    PHONE_DIGITS,
    NEW_PHONE_DIGITS,
    "erase.me",
    "erase.new",
    REASON,
    USER_AGENT,
    TOKEN_NAME,
    CARE_SUBJECT,
    CARE_BODY,
    CARE_REPLY,
]
KEPT_VALUES = ["Trần Văn Giữ", "977770001", "keep.me@example.com"]


def _sign_in_on_the_web(email):
    """A mistyped password first, then the right one, through /account/login/."""
    browser = Client(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR=IP)
    failed = browser.post("/account/login/", {"username": email, "password": "wrong-password"})
    assert failed.status_code == 200
    signed_in = browser.post("/account/login/", {"username": email, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content[:2000]
    return browser


def _token_from_the_app(email):
    """A wrong password, then a named token, through POST /api/v1/auth/token/."""
    app = Client(HTTP_USER_AGENT=USER_AGENT, REMOTE_ADDR=IP)
    body = {"email": email, "password": "wrong-password", "name": TOKEN_NAME}
    path = "/api/v1/auth/token/"
    assert app.post(path, json.dumps(body), content_type="application/json").status_code == 401
    body["password"] = PASSWORD
    response = app.post(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content


def _care_request_through_the_admin(staff, customer):
    """Staff open a support request for the customer and reply to it in the admin."""
    from care.models import CareRequest

    admin = Client()
    admin.force_login(staff)
    declared = admin.post("/admin/purpose/", {"purpose": "customer_care", "reference": ""})
    assert declared.status_code == 302
    added = admin.post(
        "/admin/care/carerequest/add/",
        {"customer": customer.pk, "kind": "question", "subject": CARE_SUBJECT, "body": CARE_BODY},
    )
    assert added.status_code == 302, added.content[:3000]
    care = CareRequest.objects.get(customer=customer)
    path = f"/admin/care/carerequest/{care.pk}/change/"
    form = admin.get(path).context["adminform"].form
    # The change form's hidden edit version (security.locking) comes from the page, as in a browser.
    version = {name: form[name].value() for name in form.fields if name == "edit_version"}
    changed = admin.post(
        path,
        {
            "status": "in_progress",
            "assignee": "",
            "reply": CARE_REPLY,
            "internal_note": "",
            **version,
        },
    )
    assert changed.status_code == 302, changed.context["adminform"].form.errors
    assert LogEntry.objects.filter(object_id=str(care.pk), object_repr__contains=CARE_SUBJECT)


def build_history(staff):
    """A customer with a history of changes, sign-ins (one failed), an app token, a support
    request handled in the admin, a rights request and an admin log entry; another to keep."""
    customer = make_customer(
        email=EMAIL, contact_person=NAME, phone="+84" + PHONE_DIGITS, business_name="Công ty Xoá"
    )
    keep = make_customer(
        email=KEPT_VALUES[2], contact_person=KEPT_VALUES[0], phone="+84" + KEPT_VALUES[1]
    )
    _sign_in_on_the_web(EMAIL)
    with access_context(actor=customer.user, channel=Channel.PORTAL, reason="correction"):
        customer_update(
            customer=customer,
            contact_person=NEW_NAME,
            phone="+84" + NEW_PHONE_DIGITS,
            email=NEW_EMAIL,
        )
        request = services.request_file(customer=customer, kind="erasure", reason=REASON)
    if apps.is_installed("devices"):
        _token_from_the_app(NEW_EMAIL)
    if apps.is_installed("care"):
        _care_request_through_the_admin(staff, customer)
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(customer.user_id),
        object_repr=str(customer.user),
        action_flag=CHANGE,
        change_message="[]",
    )
    return Customer.objects.get(pk=customer.pk), keep, request


def all_cells():
    """Yield (table, value) for every text-like cell of every table in the database."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (str, bytes, memoryview)):
                        yield (
                            table,
                            bytes(value).decode("utf-8", "replace")
                            if not isinstance(value, str)
                            else value,
                        )


def leftovers(values):
    return sorted({(table, v) for table, cell in all_cells() for v in values if v in cell})


def complete_erasure(request, staff):
    with access_context(actor=staff, channel=Channel.ADMIN, purpose="complaints"):
        services.request_acknowledge(request=request, actor=staff)
        services.request_complete(request=request, actor=staff, response="Đã xoá")


def test_erasure_leaves_no_personal_value_in_any_table(support_user):
    customer, keep, request = build_history(support_user)
    assert leftovers(OLD_VALUES)  # the values are really there before
    history_before = customer.history.count()
    log_before = AccessLog.objects.filter(customer_id=customer.pk).count()

    complete_erasure(request, support_user)

    assert leftovers(OLD_VALUES) == []
    assert len(leftovers(KEPT_VALUES)) >= 3  # the other customer is untouched
    customer = Customer.objects.select_related("user").get(pk=customer.pk)
    assert customer.contact_person == "[erased]" and str(customer.phone) == ""
    assert customer.user.email == erased_email(customer.user_id)
    assert not customer.user.is_active and not customer.user.has_usable_password()
    assert customer.business_name == "Công ty Xoá"
    # The skeleton: every history row is still there (plus the erasure), with actor and reason.
    records = list(customer.history.order_by("history_date", "history_id"))
    assert len(records) == history_before + 1
    assert {r.contact_person for r in records} == {"[erased 1]", "[erased 2]", "[erased]"}
    assert records[1].history_user_id == customer.user_id
    assert records[1].history_change_reason == "correction"
    assert records[-1].history_user_id == support_user.pk
    assert records[-1].history_change_reason == f"erasure under request #{request.pk}"
    assert records[-1].history_purpose == "complaints"
    request.refresh_from_db()
    assert request.reason == "[erased]" and request.response == "[erased]"
    assert request.status == "completed"
    ledger = ErasureRecord.objects.get(customer_id=customer.pk)
    assert (ledger.request_id, ledger.approved_by_id) == (request.pk, support_user.pk)
    gate = GateUse.objects.get(kind="erasure")
    assert gate.approved_by_id == support_user.pk and str(request.pk) in gate.reason
    # Access-log rows stay, plus the erasure itself.
    assert AccessLog.objects.filter(customer_id=customer.pk).count() == log_before + 3
    assert AccessLog.objects.filter(customer_id=customer.pk, action="delete").get().actor_id == (
        support_user.pk
    )


def test_erasure_removes_the_sign_in_traces_of_every_email_the_login_had(support_user):
    from axes.models import AccessAttempt, AccessFailureLog
    from axes.models import AccessLog as SignInLog

    customer, _, request = build_history(support_user)
    names = [EMAIL, NEW_EMAIL]
    assert SignInLog.objects.filter(username=EMAIL, ip_address=IP).exists()
    assert AccessAttempt.objects.filter(username=NEW_EMAIL).exists()

    complete_erasure(request, support_user)

    for model in (AccessAttempt, AccessFailureLog, SignInLog):
        assert not model.objects.filter(username__in=names).exists()
        assert not model.objects.filter(ip_address=IP).exists()
        assert not model.objects.filter(user_agent=USER_AGENT).exists()


def test_erasure_names_no_object_of_the_customer_in_the_admin_log(support_user):
    customer, keep, request = build_history(support_user)
    other = LogEntry.objects.create(
        user=support_user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(keep.pk),
        object_repr=str(keep),
        action_flag=CHANGE,
        change_message="[]",
    )
    inline = LogEntry.objects.create(
        user=support_user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message=json.dumps(
            [
                {"changed": {"fields": ["Contact person"]}},
                {"added": {"name": "support request", "object": CARE_SUBJECT}},
            ]
        ),
    )

    complete_erasure(request, support_user)

    inline.refresh_from_db()
    assert inline.object_repr == "[erased]"
    assert json.loads(inline.change_message) == [
        {"changed": {"fields": ["Contact person"]}},
        {"added": {"name": "support request", "object": "[erased]"}},
    ]
    assert not LogEntry.objects.filter(object_repr__contains="Xoá").exists()
    other.refresh_from_db()
    assert other.object_repr == str(keep)


def test_triggers_still_refuse_every_other_change_of_history(support_user):
    customer, _, request = build_history(support_user)
    complete_erasure(request, support_user)
    for model, flt in [
        (Customer.history.model, {"id": customer.pk}),
        (User.history.model, {"id": customer.user_id}),
        (DataSubjectRequest.history.model, {"id": request.pk}),
    ]:
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(**flt).update(history_change_reason="tampered")
        with pytest.raises(DatabaseError), transaction.atomic():
            model.objects.filter(**flt).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        ErasureRecord.objects.filter(customer_id=customer.pk).delete()


def test_erasure_is_idempotent(support_user):
    customer, _, request = build_history(support_user)
    complete_erasure(request, support_user)
    count = customer.history.count()
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        customer_erase(customer=Customer.objects.get(pk=customer.pk), approved_by=support_user)
    assert customer.history.count() == count
    assert ErasureRecord.objects.count() == 1


def test_closing_an_account_erases_it(support_user, customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.request_file(customer=customer, kind="closure", reason="")
    complete_erasure(request, support_user)
    assert ErasureRecord.objects.filter(customer_id=customer.pk).exists()
    assert not User.objects.get(pk=customer.user_id).is_active


def test_completing_other_kinds_erases_nothing(support_user, customer):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.request_file(customer=customer, kind="access", reason="")
    complete_erasure(request, support_user)
    assert not ErasureRecord.objects.exists()
    assert Customer.objects.get(pk=customer.pk).contact_person == "Nguyễn Văn An"


@pytest.mark.django_db(transaction=True)
def test_replay_erasures_after_restoring_an_older_backup(tmp_path, reviewer, support_user):
    customer, keep, request = build_history(support_user)
    dump = tmp_path / "backup.json"
    backup(dump)
    complete_erasure(request, support_user)
    assert leftovers(OLD_VALUES) == []

    restore(dump)  # the older copy; the ledger file survives
    assert leftovers(OLD_VALUES) != []
    assert not ErasureRecord.objects.exists()

    out = io.StringIO()
    call_command("replay_erasures", approved_by=reviewer.email, stdout=out)
    assert "1 erasures, 1 customers erased again" in out.getvalue()
    assert leftovers(OLD_VALUES) == []
    assert len(leftovers(KEPT_VALUES)) >= 3
    assert ErasureRecord.objects.get(customer_id=customer.pk).request_id == request.pk
    # A second replay finds nothing left to erase.
    out = io.StringIO()
    call_command("replay_erasures", approved_by=reviewer.email, stdout=out)
    assert "0 customers erased again, 0 rows rewritten" in out.getvalue()


def test_replay_needs_an_approving_reviewer(support_user):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("replay_erasures", approved_by=support_user.email)
