"""The history tables of licences and support requests hold personal data (or point to it):
append-only, erasable only through the audit gate (which rights.erasure uses)."""

from django.db import migrations

from audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
        ("care", "0001_initial"),
        ("licensing", "0001_initial"),
        ("rights", "0004_devices_history_append_only"),
    ]

    operations = [
        *append_only("licensing_historicallicence", erasable=True),
        *append_only("care_historicalcarerequest", erasable=True),
        *append_only("care_historicalcaremessage", erasable=True),
    ]
