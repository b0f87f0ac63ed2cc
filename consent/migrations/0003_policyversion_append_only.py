"""Published policy versions never change: the database refuses UPDATE, DELETE and TRUNCATE.

The triggers are audit's append-only ones (``audit.triggers``): the test-suite flush passes them
through the same gate as the other append-only tables.
"""

from django.db import migrations

from audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0002_purposes_roles_policy_v1"),
        ("audit", "0002_append_only"),
    ]

    operations = [*append_only("consent_policyversion")]
