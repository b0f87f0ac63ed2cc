"""An index for "last seen": the newest access-log row of the app's calls about one device.

Each app call about a device is logged on the API channel with the reference ``device #<id>``
(``devices.services.device_reference``); ``devices.selectors.with_last_call`` reads the newest
one per device. A partial index over the API rows only, so staff and portal rows pay nothing.
On PostgreSQL it is built ``CONCURRENTLY``: the access log keeps taking inserts meanwhile.
"""

from django.db import migrations

NAME = "devices_accesslog_api_reference_at"
COLUMNS = "ON consent_accesslog (reference, at DESC) WHERE channel = 'api'"


def create(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {NAME} {COLUMNS}", None)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}", None)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("consent", "0003_policyversion_append_only"),
        ("devices", "0002_role_permissions"),
    ]

    operations = [migrations.RunPython(create, drop)]
