"""The erasure ledger also records the customer's and the login's sign-up times, so that a replay
after a restore never erases a later customer given the same id."""

from django.db import migrations, models

from audit.triggers import append_only


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
        ("rights", "0005_care_licensing_history_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="erasurerecord",
            name="customer_created_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="customer signed up at"),
        ),
        migrations.AddField(
            model_name="erasurerecord",
            name="user_date_joined",
            field=models.DateTimeField(blank=True, null=True, verbose_name="login created at"),
        ),
        # Adding nullable columns keeps the table (and its triggers); re-installing them is
        # idempotent and keeps the ledger append-only should a backend rebuild the table.
        # Reversing leaves them: 0003 installed them and still stands.
        *append_only("rights_erasurerecord", reinstall=True),
    ]
