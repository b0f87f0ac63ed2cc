"""Sealing never seals past a row that an open transaction may still commit below it."""

import psycopg
import pytest
from django.db import connection

from audit.models import Seal
from audit.sealing import seal_audit_log
from consent.access import access_record
from consent.context import Channel, access_context
from consent.models import AccessLog

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite has one writer at a time, committing in id order: nothing to wait for",
    ),
]


def test_a_lower_id_still_in_flight_holds_the_seal_back_until_it_commits():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    other = psycopg.connect(**params)
    try:
        with other.cursor() as cursor:  # an open request: it drew a lower id, not committed yet
            cursor.execute(
                "INSERT INTO consent_accesslog (at, customer_id, purpose, reference, action,"
                " fields, channel, request_id, outcome) VALUES (now(), 1, '', '', 'view', '',"
                " 'portal', 'slow', 'allowed') RETURNING id"
            )
            slow_id = cursor.fetchone()[0]
        with access_context(actor=None, channel=Channel.COMMAND):
            access_record(subjects=[2], action="view")
        fast_id = AccessLog.objects.get().id
        assert fast_id > slow_id

        result = seal_audit_log(wait_seconds=0.2)
        assert result.seal is None
        assert not Seal.objects.exists()

        other.commit()
        seal = seal_audit_log(wait_seconds=0.2).seal
        assert (seal.first_id, seal.last_id, seal.row_count) == (1, fast_id, 2)
    finally:
        other.close()
