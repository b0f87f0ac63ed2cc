"""The devices app's history tables hold personal data: append-only, erasable only through the
audit gate (which rights.erasure uses to erase a customer's device values)."""

from django.db import migrations

from audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
        ("devices", "0001_initial"),
        ("rights", "0003_append_only"),
    ]

    operations = [
        *append_only("devices_historicaldevice", erasable=True),
        *append_only("devices_historicaldevicepermission", erasable=True),
    ]
