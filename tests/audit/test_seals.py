"""Seals over the access log: sealing, verification, and tampering caught by verification."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import GENESIS_DIGEST, Seal, Verification
from audit.sealing import canonical_line, compute_digest, verify_seals
from consent.access import access_record
from consent.context import Channel, access_context
from consent.models import AccessLog
from tests.audit.helpers import triggers_disabled

pytestmark = pytest.mark.django_db


def log_rows(n, *, purpose="customer_care"):
    with access_context(actor=None, channel=Channel.COMMAND, purpose=purpose):
        access_record(subjects=list(range(1, n + 1)), action="view", fields=["phone"])


@pytest.fixture
def two_seals(seal_wait):
    """Seal #1 over 3 rows, seal #2 over the next 3 rows."""
    log_rows(3)
    call_command("seal_audit_log", verbosity=0)
    log_rows(3, purpose="complaints")
    call_command("seal_audit_log", verbosity=0)
    return list(Seal.objects.order_by("first_id"))


def ids():
    return list(AccessLog.objects.order_by("id").values_list("id", flat=True))


def test_seals_chain_and_cover_every_row_once(two_seals):
    first, second = two_seals
    row_ids = ids()
    assert (first.first_id, first.last_id, first.row_count) == (1, row_ids[2], 3)
    assert (second.first_id, second.last_id, second.row_count) == (row_ids[2] + 1, row_ids[5], 3)
    assert first.prev_digest == GENESIS_DIGEST
    assert second.prev_digest == first.digest
    assert compute_digest(
        prev_digest=first.digest, first_id=second.first_id, last_id=second.last_id
    ) == (second.digest, 3)


def test_sealing_twice_with_nothing_new_seals_nothing(two_seals, capsys):
    call_command("seal_audit_log")
    assert "Nothing sealed" in capsys.readouterr().out
    assert Seal.objects.count() == 2


def test_the_canonical_form_is_fixed_field_order_utc_iso():
    import datetime

    at = datetime.datetime(
        2026, 11, 26, 15, 4, 5, 6, tzinfo=datetime.timezone(datetime.timedelta(hours=7))
    )
    row = (7, at, None, 9, "complaints", "T\t1\\x", "view", "phone", "audit", "r1", None, "ok")
    assert canonical_line(row) == (
        b"7\t2026-11-26T08:04:05.000006Z\t\\N\t9\tcomplaints\tT\\t1\\\\x\tview\tphone\taudit\t"
        b"r1\t\\N\tok\n"
    )


def test_the_database_and_python_serialise_rows_identically():
    """PostgreSQL hashes COPY output; SQLite rows go through canonical_line: same bytes."""
    import hashlib

    from audit.sealing import CANONICAL_COLUMNS, _hash_rows

    tricky = "Khiếu nại\t#1\n\\path\r\x0b\x0c\x08\x01 \"quoted\" 'single' ✓"
    with access_context(
        actor=None,
        channel=Channel.COMMAND,
        purpose="complaints",
        reference=tricky,
        ip="2001:db8::1",
    ):
        access_record(subjects=[1, None], action="view", fields=["phone"])
    with access_context(actor=None, channel=Channel.COMMAND, ip="192.168.0.1"):
        access_record(subjects=[2], action="view")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(CANONICAL_COLUMNS)} FROM consent_accesslog ORDER BY id")
        rows = cursor.fetchall()
    body = hashlib.sha256(b"".join(canonical_line(row) for row in rows)).hexdigest()
    assert _hash_rows(rows[0][0], rows[-1][0]) == (body, 3)


def test_verification_passes_and_is_recorded(two_seals, capsys):
    call_command("verify_audit_log")
    assert f"OK: 2 seals, 6 rows verified; head digest {two_seals[1].digest}" in (
        capsys.readouterr().out
    )
    run = Verification.objects.get()
    assert (run.ok, run.seals_checked, run.rows_checked, run.channel) == (True, 2, 6, "command")


def assert_caught(seal):
    with pytest.raises(CommandError, match=f"first bad seal #{seal.pk} ") as info:
        call_command("verify_audit_log")
    assert info.value.returncode == 1
    run = Verification.objects.get()
    assert (run.ok, run.first_bad_seal_id) == (False, seal.pk)


def raw(sql, params=()):
    with triggers_disabled("consent_accesslog"), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_updated_field_is_caught(two_seals):
    raw("UPDATE consent_accesslog SET purpose = 'licensing' WHERE id = %s", [ids()[4]])
    assert_caught(two_seals[1])


def test_a_deleted_row_is_caught(two_seals):
    raw("DELETE FROM consent_accesslog WHERE id = %s", [ids()[1]])
    assert_caught(two_seals[0])


def test_a_row_inserted_into_a_sealed_range_is_caught(two_seals):
    gap = ids()[1]
    raw("DELETE FROM consent_accesslog WHERE id = %s", [gap])
    # Put a different row in its place: same id, another customer.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO consent_accesslog (id, at, actor_id, customer_id, purpose, reference,"
            " action, fields, channel, request_id, ip_address, outcome)"
            " SELECT %s, at, actor_id, 999, purpose, reference, action, fields, channel,"
            " request_id, ip_address, outcome FROM consent_accesslog WHERE id = %s",
            [gap, ids()[0]],
        )
    assert_caught(two_seals[0])


def test_a_row_inserted_into_a_gap_of_a_sealed_range_is_caught(seal_wait):
    log_rows(2)
    first, second = ids()
    raw("DELETE FROM consent_accesslog WHERE id = %s", [second])
    log_rows(1)
    call_command("seal_audit_log", verbosity=0)  # seals rows first..third, a gap at second
    seal = Seal.objects.get()
    assert seal.row_count == 2
    with connection.cursor() as cursor:  # INSERT is allowed: slip a row into the gap
        cursor.execute(
            "INSERT INTO consent_accesslog (id, at, customer_id, purpose, reference, action,"
            " fields, channel, request_id, outcome) SELECT %s, at, 42, purpose, reference,"
            " action, fields, channel, request_id, outcome FROM consent_accesslog WHERE id = %s",
            [second, first],
        )
    assert_caught(seal)


def test_two_rows_with_swapped_times_are_caught(seal_wait):
    import datetime

    log_rows(3)
    a, b, c = ids()
    later = AccessLog.objects.get(id=a).at + datetime.timedelta(seconds=5)
    raw("UPDATE consent_accesslog SET at = %s WHERE id = %s", [later, b])
    call_command("seal_audit_log", verbosity=0)
    seal = Seal.objects.get()
    at_a, at_b = (AccessLog.objects.get(id=i).at for i in (a, b))
    raw("UPDATE consent_accesslog SET at = %s WHERE id = %s", [at_b, a])
    raw("UPDATE consent_accesslog SET at = %s WHERE id = %s", [at_a, b])
    assert AccessLog.objects.get(id=a).at == at_b
    assert_caught(seal)


def test_a_removed_seal_breaks_the_chain_at_the_next_one(two_seals, seal_wait):
    log_rows(1)
    call_command("seal_audit_log", verbosity=0)
    third = Seal.objects.order_by("first_id").last()
    with triggers_disabled("audit_seal"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_seal WHERE id = %s", [two_seals[1].pk])
    assert_caught(third)


def test_since_limits_the_work_to_later_seals(two_seals):
    import datetime

    raw("UPDATE consent_accesslog SET purpose = 'licensing' WHERE id = %s", [ids()[0]])
    since = two_seals[1].sealed_at - datetime.timedelta(microseconds=1)
    # The first seal is tampered with, but is older than --since.
    result = verify_seals(since=since)
    assert (result.ok, result.seals_checked, result.rows_checked) == (True, 1, 3)
    assert verify_seals().first_bad == two_seals[0]


def test_verify_rejects_a_bad_since_date():
    with pytest.raises(CommandError, match="--since"):
        call_command("verify_audit_log", "--since", "last tuesday")


def test_max_rows_splits_sealing_into_chained_seals(seal_wait, capsys):
    log_rows(5)
    call_command("seal_audit_log", "--max-rows", "2")
    call_command("seal_audit_log", "--max-rows", "2")
    call_command("seal_audit_log", "--max-rows", "2")
    assert [s.row_count for s in Seal.objects.order_by("first_id")] == [2, 2, 1]
    assert "Sealed rows" in capsys.readouterr().out
    assert verify_seals().ok
