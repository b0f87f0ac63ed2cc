"""The breach register's form answers bad input with field errors, never a server error."""

import pytest
from django.test import Client
from django.urls import reverse

from rights.models import Breach

pytestmark = pytest.mark.django_db

GOOD = {"detected_at_0": "2026-01-01", "detected_at_1": "10:00", "description": "Gửi nhầm email",
        "categories": ["email"]}


@pytest.mark.parametrize(("bad", "field"), [
    ({"affected": ["abc"]}, "affected"),
    ({"affected": ["1", "-5"]}, "affected"),
    ({"affected": ["99999999999999999999"]}, "affected"),
    ({"affected": ["１２"]}, "affected"),  # full-width digits are not an id
    ({"affected": ["\x00"]}, "affected"),
    ({"detected_at_0": "0001-01-01", "detected_at_1": "00:00"}, "detected_at"),
    ({"detected_at_0": "1999-12-31", "detected_at_1": "10:00"}, "detected_at"),
    ({"authority_notified_at_0": "0001-01-01", "authority_notified_at_1": "00:00"},
     "authority_notified_at"),
    ({"authority_notified_at_0": "9999-12-31", "authority_notified_at_1": "23:59"},
     "authority_notified_at"),
])
def test_bad_breach_input_is_a_field_error(reviewer, bad, field):
    client = Client(raise_request_exception=False)
    client.force_login(reviewer)
    response = client.post(reverse("admin:rights_breach_add"), {**GOOD, **bad})
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Breach.objects.exists()


def test_a_customer_id_is_still_accepted(reviewer, customer):
    client = Client()
    client.force_login(reviewer)
    response = client.post(reverse("admin:rights_breach_add"),
                           {**GOOD, "affected": [str(customer.pk)]})
    assert response.status_code == 302
    assert list(Breach.objects.get().affected.all()) == [customer]
