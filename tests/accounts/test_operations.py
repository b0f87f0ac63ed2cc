import pytest
from django.core.management import call_command
from django.db import DatabaseError

from accounts.models import Customer, User
from consent.models import ConsentRecord

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "up"


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from django.db.backends.base.base import BaseDatabaseWrapper

    def refuse(self):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_seed_demo_creates_logins_and_customers_and_runs_twice_without_duplicates(capsys):
    call_command("seed_demo", customers=12)
    out = capsys.readouterr().out
    assert "admin@excelcrm.example" in out and "reviewer@excelcrm.example" in out
    assert Customer.objects.count() == 12
    assert ConsentRecord.objects.count() == 12
    assert User.objects.filter(is_staff=True).count() == 4
    assert User.objects.get(email="support@excelcrm.example").groups.get().name == "Support"
    customer = Customer.objects.order_by("pk").first()
    assert str(customer.phone).startswith("+84")
    assert customer.user.email.endswith("@example.com")
    names = "".join(Customer.objects.values_list("contact_person", flat=True))
    assert any(not ch.isascii() for ch in names)  # Vietnamese diacritics

    call_command("seed_demo", customers=12)
    assert Customer.objects.count() == 12
    assert User.objects.filter(is_staff=True).count() == 4
    call_command("seed_demo", customers=15)
    assert Customer.objects.count() == 15


def test_settings_refuse_to_start_without_secret_key_unless_debug():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    code = "import django; django.setup()"
    env["DJANGO_SETTINGS_MODULE"] = "excelcrm.settings"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr
    env["DEBUG"] = "1"
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
