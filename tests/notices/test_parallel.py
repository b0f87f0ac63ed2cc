from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notices.models import Notice
from notices.services import renewal_notices_send
from tests.factories import make_customer
from tests.work_factories import grant, make_plan

pytestmark = pytest.mark.django_db


def test_shards_split_the_due_licences_without_overlap():
    plan = make_plan()
    for i in range(5):
        grant(make_customer(email=f"p{i}@example.com"), plan, expires_in=7)
    first = renewal_notices_send(windows=[7], shard=(0, 2))
    second = renewal_notices_send(windows=[7], shard=(1, 2))
    assert first.sent + second.sent == 5 and first.sent and second.sent
    assert Notice.objects.filter(status="sent").count() == 5


def test_workers_must_be_a_sensible_number():
    with pytest.raises(CommandError):
        call_command("send_renewal_notices", "--workers", "0", stdout=StringIO())
