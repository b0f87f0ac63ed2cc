"""The history of rights requests is append-only (erasable through the gate); the erasure ledger
and breach notifications are evidence, never changed."""

from django.db import migrations

from audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
        ("rights", "0002_role_permissions"),
    ]

    operations = [
        *append_only("rights_historicaldatasubjectrequest", erasable=True),
        *append_only("rights_erasurerecord"),
        *append_only("rights_breachnotification"),
    ]
