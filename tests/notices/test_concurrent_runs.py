"""Two renewal runs at the same moment, on PostgreSQL with real separate connections."""

import threading

import pytest
from django.core import mail
from django.db import connection, connections

from consent.models import AccessLog
from notices.models import Notice
from notices.services import renewal_notices_send
from tests.factories import make_customer
from tests.work_factories import grant, make_plan, restore_seed_data

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_two_simultaneous_runs_send_each_notice_once(settings):
    settings.NOTICES_BATCH_SIZE = 5
    restore_seed_data()
    plan = make_plan()
    customers = [make_customer(email=f"c{i}@example.com") for i in range(40)]
    for customer in customers:
        grant(customer, plan, expires_in=7)
    start = threading.Barrier(2)
    summaries, errors = [], []

    def run():
        try:
            start.wait()
            summaries.append(renewal_notices_send(windows=[30, 7, 1]))
        except Exception as error:  # reported below with the other run's summary
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(summaries) == 2 and sum(s.sent for s in summaries) == 40
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in customers)
    assert Notice.objects.filter(status="sent").count() == 40
    assert AccessLog.objects.filter(action="notify").count() == 40
