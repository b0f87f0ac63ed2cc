import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from accounts.models import Customer
from accounts.services import customer_update
from consent import access
from consent.context import Channel, MissingAccessContext, access_context, context_changed
from consent.middleware import AccessContextMiddleware
from consent.models import AccessLog

pytestmark = pytest.mark.django_db


def test_a_personal_data_write_with_no_context_fails_loudly(customer):
    customer = Customer.objects.get(pk=customer.pk)
    customer.contact_person = "Trần Thị Bình"
    # customer_update has no savepoint of its own: a caller that goes on after its error opens one.
    with pytest.raises(MissingAccessContext), transaction.atomic():
        customer_update(customer=customer)
    assert Customer.objects.get(pk=customer.pk).contact_person == "Nguyễn Văn An"


def test_a_plain_save_outside_a_context_fails_loudly(customer):
    customer = Customer.objects.get(pk=customer.pk)
    customer.contact_person = "Trần Thị Bình"
    with pytest.raises(MissingAccessContext), transaction.atomic():
        customer.save()
    assert Customer.objects.get(pk=customer.pk).contact_person == "Nguyễn Văn An"


def test_rows_are_written_in_one_batch_when_the_context_closes(customer, superuser):
    before = AccessLog.objects.count()
    with access_context(actor=superuser, channel=Channel.COMMAND, purpose="customer_care") as ctx:
        access.access_record(subjects=[customer] * 3, action=access.Action.VIEW, fields=["phone"])
        assert AccessLog.objects.count() == before
        assert len(ctx.pending) == 3
    assert AccessLog.objects.count() == before + 3
    row = AccessLog.objects.filter(actor_id=superuser.pk).first()
    assert (row.purpose, row.channel, row.fields, row.outcome) == (
        "customer_care", "command", "phone", "allowed"
    )


def _middleware_run(view, user):
    request = RequestFactory().get("/admin/accounts/customer/")
    request.user = user
    request.session = {}
    middleware = AccessContextMiddleware(lambda req: middleware.process_view(req, view, (), {}))
    return middleware(request)


def test_a_rolled_back_request_leaves_only_its_denied_rows(customer, superuser):
    def view(request):
        access.access_record(subjects=[customer], action=access.Action.CHANGE, fields=["phone"])
        access.access_denied(subjects=[customer], action=access.Action.VIEW)
        raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        _middleware_run(view, superuser)
    rows = list(AccessLog.objects.filter(actor_id=superuser.pk))
    assert [(r.action, r.outcome, r.channel) for r in rows] == [("view", "denied", "admin")]


def test_a_successful_request_writes_its_rows_with_one_request_id(customer, superuser):
    def view(request):
        access.access_record(subjects=[customer], action=access.Action.VIEW, fields=["email"])
        access.access_record(subjects=[customer], action=access.Action.CHANGE, fields=["email"])
        return HttpResponse("ok")

    response = _middleware_run(view, superuser)
    rows = AccessLog.objects.filter(actor_id=superuser.pk)
    assert rows.count() == 2
    assert {r.request_id for r in rows} == {response["X-Request-ID"]}


def test_a_changed_reference_names_the_rows_of_its_block_only(customer):
    with access_context(actor=None, channel=Channel.COMMAND, reference="ticket 7") as ctx:
        with pytest.raises(ValueError), context_changed(reference="breach #3", reason="notify"):
            access.access_record(subjects=[customer], action=access.Action.NOTIFY)
            raise ValueError("the block fails after logging")
        assert (ctx.reference, ctx.reason) == ("ticket 7", "")
        access.access_record(subjects=[customer], action=access.Action.VIEW)
    rows = AccessLog.objects.filter(customer_id=customer.pk, action__in=["notify", "view"])
    assert sorted(rows.values_list("action", "reference")) == [
        ("notify", "breach #3"),
        ("view", "ticket 7"),
    ]


def test_only_the_declaration_and_reason_can_be_changed_for_a_block():
    with access_context(actor=None, channel=Channel.COMMAND):
        with pytest.raises(TypeError, match="actor"), context_changed(actor=None):
            pass
