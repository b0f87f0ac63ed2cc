"""The erasure ledger after a restore: the right customer is erased again, never a newcomer."""

import datetime
import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from accounts.models import Customer
from consent.context import Channel, access_context
from rights import services
from rights.erasure import customer_erase, erased_email
from rights.models import ErasureRecord
from tests.factories import make_customer
from tests.rights.backups import backup, restore

pytestmark = pytest.mark.django_db(transaction=True)


def erase_through_a_request(customer, staff):
    with access_context(actor=customer.user, channel=Channel.PORTAL):
        request = services.request_file(customer=customer, kind="erasure", reason="")
    with access_context(actor=staff, channel=Channel.ADMIN, purpose="complaints"):
        services.request_acknowledge(request=request, actor=staff)
        services.request_complete(request=request, actor=staff)


def replay(reviewer):
    out = io.StringIO()
    call_command("replay_erasures", approved_by=reviewer.email, stdout=out)
    return out.getvalue()


def ledger_lines():
    path = settings.ERASURE_LEDGER_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_replay_does_not_erase_a_new_customer_given_the_erased_customers_id(
    tmp_path, reviewer, support_user
):
    make_customer(email="already.here@example.com")
    backup(tmp_path / "backup.json")
    erased = make_customer(email="erased.later@example.com", contact_person="Người Bị Xoá")
    erase_through_a_request(erased, support_user)
    [line] = ledger_lines()
    assert line["customer_created_at"] and line["user_date_joined"]

    restore(tmp_path / "backup.json")
    newcomer = make_customer(email="newcomer@example.com", contact_person="Người Mới Đến")
    # The restore reset the sequences: the newcomer is given the erased customer's ids.
    assert (newcomer.pk, newcomer.user_id) == (erased.pk, erased.user_id)

    out = replay(reviewer)

    assert "1 erasures, 0 customers erased again" in out
    assert "Not erased: 1 ids now belong to another customer" in out
    assert f"customer ids {erased.pk}." in out
    newcomer = Customer.objects.select_related("user").get(pk=newcomer.pk)
    assert newcomer.contact_person == "Người Mới Đến"
    assert newcomer.user.email == "newcomer@example.com" and newcomer.user.is_active
    assert not ErasureRecord.objects.exists()

    # Erasing the newcomer later is a new ledger line of its own, and a replay keeps it erased.
    erase_through_a_request(newcomer, support_user)
    assert len(ledger_lines()) == 2
    out = replay(reviewer)
    assert "2 erasures, 0 customers erased again, 0 rows rewritten" in out
    assert ErasureRecord.objects.get(customer_id=newcomer.pk).customer_created_at == (
        newcomer.created_at
    )


def test_replay_moves_the_id_sequences_past_every_erased_customer(tmp_path, reviewer, support_user):
    backup(tmp_path / "backup.json")
    erased = make_customer(email="erased.later@example.com")
    erase_through_a_request(erased, support_user)
    restore(tmp_path / "backup.json")

    out = replay(reviewer)
    assert "1 erased customers are not in the database." in out

    newcomer = make_customer(email="newcomer@example.com")
    assert newcomer.pk > erased.pk and newcomer.user_id > erased.user_id
    assert replay(reviewer).count("Not erased") == 0


def test_a_ledger_line_without_sign_up_times_erases_only_a_customer_older_than_it(
    reviewer, support_user
):
    old = make_customer(email="old@example.com")
    erased_at = datetime.datetime.now(datetime.UTC)
    young = make_customer(email="young@example.com")  # signed up after that erasure
    for customer in (old, young):  # lines written before the sign-up times were ledgered
        line = {
            "customer_id": customer.pk,
            "user_id": customer.user_id,
            "request_id": None,
            "approved_by_id": support_user.pk,
            "erased_at": erased_at.isoformat(),
        }
        with settings.ERASURE_LEDGER_FILE.open("a") as ledger:
            ledger.write(json.dumps(line) + "\n")

    out = replay(reviewer)

    assert f"customer ids {young.pk}." in out
    assert Customer.objects.get(pk=old.pk).user.email == erased_email(old.user_id)
    assert Customer.objects.get(pk=young.pk).user.email == "young@example.com"


def test_a_rolled_back_erasure_leaves_no_ledger_line(customer, support_user, reviewer):
    with pytest.raises(RuntimeError), transaction.atomic():
        with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
            customer_erase(customer=customer, approved_by=support_user)
        raise RuntimeError("a later step of the same transaction fails")

    assert ledger_lines() == []
    assert not ErasureRecord.objects.exists()
    assert "0 erasures" in replay(reviewer)
    assert Customer.objects.get(pk=customer.pk).contact_person == "Nguyễn Văn An"


def test_a_committed_erasure_writes_its_line_and_replay_restores_a_lost_one(
    customer, support_user, reviewer
):
    with access_context(actor=support_user, channel=Channel.ADMIN, purpose="complaints"):
        customer_erase(customer=customer, approved_by=support_user)
    [line] = ledger_lines()
    assert (line["customer_id"], line["user_id"]) == (customer.pk, customer.user_id)

    settings.ERASURE_LEDGER_FILE.unlink()  # the line was lost between commit and write
    out = replay(reviewer)

    assert "1 ledger lines missing from the file were written from the ledger table." in out
    assert [entry["customer_id"] for entry in ledger_lines()] == [customer.pk]
