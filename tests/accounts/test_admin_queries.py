"""The customer and login changelists run a constant number of queries, whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_customer

pytestmark = pytest.mark.django_db

# Session, user, authenticator device, purpose grant, permissions, filter lookups (policy
# versions), one COUNT, purposes, the page, one restriction check for the page's customers, one
# batched access-log INSERT, the session update and their savepoints: none of them per row.
MAX_QUERIES = 17


def _customers(n):
    for i in range(n):
        make_customer(phone=f"+8491{i:07d}", contact_person=f"Nguyễn Văn {i}")


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/admin/accounts/customer/", "/admin/accounts/user/"])
@pytest.mark.parametrize("with_purpose", [False, True])
def test_changelist_queries_do_not_grow_with_rows(
    client, support_user, declare, django_assert_max_num_queries, url, with_purpose
):
    client.force_login(support_user)
    # The first request of a session registers it once (security.UserSession): not a page cost.
    assert client.get("/admin/").status_code == 200
    if with_purpose:
        declare(client, "customer_care")
    _customers(3)
    with django_assert_max_num_queries(MAX_QUERIES):
        small = _count(client, url)
    _customers(30)
    with django_assert_max_num_queries(MAX_QUERIES):
        large = _count(client, url)
    assert small == large
