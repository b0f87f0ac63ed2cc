"""A login is found by email the way the uniqueness constraint compares emails: ``Lower()``.

Sign-in, password reset and the staff and command lookups all go through
``accounts.normalize.email_equals``, so an address the constraint calls taken is also the one
that signs in, and on PostgreSQL the lookup uses the constraint's index instead of scanning.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.normalize import email_equals
from consent.context import Channel, access_context
from tests.factories import PASSWORD, make_customer

pytestmark = pytest.mark.usefixtures("policy")

# PostgreSQL: lower('İ') is 'i' but upper('i') is 'I', not 'İ'. The constraint calls these two
# addresses one; a lookup by UPPER() (Django's iexact) did not find the login.
STORED = "ix.test@example.com"
TYPED = "İx.test@example.com"


def sign_in(client, username):
    return client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})


def test_sign_in_ignores_the_case_of_the_address(client):
    make_customer(email="an.nguyen@example.com")
    response = sign_in(client, "AN.Nguyen@EXAMPLE.com")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get().pk)


def test_the_sign_in_lookup_compares_lowercased_emails(client):
    make_customer(email="an.nguyen@example.com")
    with CaptureQueriesContext(connection) as queries:
        sign_in(client, "an.nguyen@example.com")
    lookups = [q["sql"] for q in queries.captured_queries
               if 'FROM "accounts_user"' in q["sql"] and '"email"' in q["sql"]]
    assert lookups
    assert all("LOWER(" in sql.upper() and "UPPER(" not in sql.upper() for sql in lookups)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's LOWER()")
def test_an_address_the_constraint_calls_taken_signs_in_to_that_login(client):
    make_customer(email=STORED)
    assert sign_in(client, TYPED).status_code == 302


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's LOWER()")
def test_a_reset_asked_for_such_an_address_goes_to_the_stored_one(client):
    make_customer(email=STORED)
    client.post(reverse("accounts:password_reset"), {"email": TYPED})
    assert [m.to for m in mail.outbox] == [[STORED]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_the_login_lookup_uses_the_unique_index():
    make_customer(email="an.nguyen@example.com")
    lookup = User.objects.filter(email_equals("email", "AN.Nguyen@example.com"))
    sql, params = lookup.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan TO off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "accounts_user_email_ci_unique" in plan


def test_a_reset_reaches_active_logins_with_a_password_only(client):
    make_customer(email="active@example.com")
    make_customer(email="gone@example.com")
    make_customer(email="nopass@example.com")
    with access_context(actor=None, channel=Channel.COMMAND):
        gone = User.objects.get(email="gone@example.com")
        gone.is_active = False
        gone.save()
        nopass = User.objects.get(email="nopass@example.com")
        nopass.set_unusable_password()
        nopass.save()
    for email in ("GONE@example.com", "nopass@EXAMPLE.com", "ACTIVE@example.com"):
        response = client.post(reverse("accounts:password_reset"), {"email": email})
        assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["active@example.com"]]
