"""After an erasure, history still says which field changed in each row, never what it held."""

import pytest

from accounts.models import Customer, User
from consent.context import Channel, access_context
from rights.erasure import customer_erase
from rights.models import DataSubjectRequest
from tests.rights.test_erasure import build_history, complete_erasure

pytestmark = pytest.mark.django_db


def changes(history):
    """Return, for each pair of consecutive history rows, the fields that changed."""
    rows = list(history.order_by("history_date", "history_id"))
    return [
        (row.history_change_reason, sorted(row.diff_against(previous).changed_fields))
        for previous, row in zip(rows, rows[1:], strict=False)
    ]


def histories(customer, request):
    return {
        "customer": Customer.history.filter(id=customer.pk),
        "user": User.history.filter(id=customer.user_id),
        "request": DataSubjectRequest.history.filter(id=request.pk),
    }


def test_diffs_of_consecutive_history_rows_survive_the_erasure(support_user):
    customer, _, request = build_history(support_user)
    before = {name: changes(history) for name, history in histories(customer, request).items()}
    assert ("correction", ["contact_person", "phone"]) in before["customer"]
    assert ("correction", ["email"]) in before["user"]

    complete_erasure(request, support_user)

    after = {name: changes(history) for name, history in histories(customer, request).items()}
    for name, pairs in before.items():
        # The rows that were there keep their diffs; the erasure's own rows come after them.
        assert after[name][: len(pairs)] == pairs, name
    erasure = f"erasure under request #{request.pk}"
    assert (erasure, ["contact_person", "phone"]) in after["customer"]
    assert any(reason == erasure and "email" in fields for reason, fields in after["user"])
    rows = list(Customer.history.filter(id=customer.pk).order_by("history_date", "history_id"))
    assert [r.contact_person for r in rows] == ["[erased 1]", "[erased 2]", "[erased]"]
    assert [str(r.phone) for r in rows] == ["[erased 1]", "[erased 2]", ""]
    emails = list(
        User.history.filter(id=customer.user_id)
        .order_by("history_date", "history_id")
        .values_list("email", flat=True)
    )
    uid = customer.user_id
    assert emails[:2] == [f"erased-{uid}-1@erased.invalid", f"erased-{uid}-2@erased.invalid"]
    assert emails[-1] == f"erased-{uid}@erased.invalid"


def test_erasing_again_rewrites_no_history_row(support_user):
    customer, _, request = build_history(support_user)
    complete_erasure(request, support_user)
    stored = {
        name: list(history.order_by("history_id").values())
        for name, history in histories(customer, request).items()
    }
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        again = Customer.objects.get(pk=customer.pk)
        record = customer_erase(customer=again, approved_by=support_user)
    assert record.request_id == request.pk
    for name, history in histories(customer, request).items():
        assert list(history.order_by("history_id").values()) == stored[name], name
