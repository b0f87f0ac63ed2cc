"""The access-log export never hands a spreadsheet a formula (both the COPY and the Python path)."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from consent.access import access_record
from consent.context import Channel, access_context
from tests.factories import make_customer

pytestmark = pytest.mark.django_db

DANGEROUS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_free_text_cells_starting_a_formula_get_a_quote(reviewer, support_user):
    customer = make_customer()
    for reference in DANGEROUS + ["HĐ-12 =ok"]:
        with access_context(
            actor=support_user, channel=Channel.ADMIN, purpose="customer_care", reference=reference
        ) as ctx:
            ctx.request_id = "=cmd|' /C calc'!A0"
            access_record(subjects=[customer], action="view", fields=["phone"])
    client = Client()
    client.force_login(reviewer)
    response = client.get(
        reverse("audit:access_export"), {"customer": customer.pk, "purpose": "customer_care"}
    )
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    header, rows = lines[1], lines[2:]
    references = [row[header.index("reference")] for row in rows]
    assert sorted(references) == sorted(["'" + r for r in DANGEROUS] + ["HĐ-12 =ok"])
    assert {row[header.index("request_id")] for row in rows} == {"'=cmd|' /C calc'!A0"}
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
