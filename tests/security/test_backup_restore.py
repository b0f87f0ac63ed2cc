"""A backup taken with pg_dump restores with pg_restore into an empty database, rows intact."""

import secrets
import shutil
import subprocess

import psycopg
import pytest
from django.db import connection

from tests.factories import make_customer

pytestmark = [
    pytest.mark.postgres,
    # Skipped before any database set-up: a skipped serialized_rollback test still flushes the
    # database without re-creating permissions, which the next transactional test then lacks.
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="backup and restore are PostgreSQL's (set DATABASE_URL=postgres://...)"),
    # serialized_rollback: the flush after this test would otherwise drop the data that
    # migrations load (purposes, policy 1.0), which later tests rely on.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def postgres_only():
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")


def _conninfo(name: str) -> dict:
    s = connection.settings_dict
    return {"host": s["HOST"] or "127.0.0.1", "port": str(s["PORT"] or 5432),
            "user": s["USER"] or "postgres", "dbname": name}


def _counts(info: dict) -> tuple:
    with psycopg.connect(**info, password=connection.settings_dict["PASSWORD"] or None) as c:
        return c.execute(
            "SELECT (SELECT count(*) FROM accounts_customer),"
            " (SELECT count(*) FROM accounts_historicalcustomer),"
            " (SELECT count(*) FROM consent_consentrecord),"
            " (SELECT count(*) FROM consent_accesslog),"
            " (SELECT string_agg(contact_person, ',' ORDER BY id) FROM accounts_customer)"
        ).fetchone()


def test_pg_dump_and_pg_restore_round_trip(postgres_only, tmp_path):
    make_customer(contact_person="Trần Thị Sao Lưu")
    make_customer(contact_person="Lê Văn Phục Hồi")
    source = _conninfo(connection.settings_dict["NAME"])
    target = {**source, "dbname": f"excelcrm_restore_{secrets.token_hex(4)}"}
    dump = tmp_path / "excelcrm.dump"
    args = ["-h", source["host"], "-p", source["port"], "-U", source["user"]]
    subprocess.run(["pg_dump", *args, "--format=custom", "--no-owner", f"--file={dump}",
                    source["dbname"]], check=True)
    subprocess.run(["createdb", *args, target["dbname"]], check=True)
    try:
        subprocess.run(["pg_restore", *args, "--no-owner", "--exit-on-error",
                        f"--dbname={target['dbname']}", str(dump)], check=True)
        restored = _counts(target)
        assert restored == _counts(source)
        assert restored[0] == 2 and "Lê Văn Phục Hồi" in restored[4]
    finally:
        subprocess.run(["dropdb", *args, "--if-exists", target["dbname"]], check=True)
