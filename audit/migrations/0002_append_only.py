"""Make the audit tables append-only, add the explorer's indexes, snapshot today's grants."""

from django.db import migrations
from django.utils import timezone

from audit.triggers import append_only, gate_function_operations

# Tables whose rows are evidence: never updated, deleted or truncated.
STRICT_TABLES = [
    "consent_accesslog",
    "consent_consentrecord",
    "audit_seal",
    "audit_verification",
    "audit_revieweractivity",
    "audit_gateuse",
    "audit_grantsnapshot",
]
# simple-history tables of personal data: the erasure gate may blank values (UPDATE) in them.
HISTORY_TABLES = [
    "accounts_historicalcustomer",
    "accounts_historicaluser",
]

# PostgreSQL indexes for the access-log explorer and reports (consent's own indexes already
# cover customer_id+at, actor_id+at and at).
PG_INDEXES = [
    # "One month and one purpose", newest first with the (at, id) keyset: an equality on purpose
    # then a range and order on at, id comes straight off this b-tree, no sort.
    "CREATE INDEX IF NOT EXISTS audit_accesslog_purpose_at_id "
    "ON consent_accesslog (purpose, at DESC, id DESC)",
    # Date-range scans (CSV export of a period, weekly report): the log is appended in time
    # order, so a BRIN index on at is a few hundred kB for tens of millions of rows where a
    # b-tree is gigabytes, and skips every block outside the range.
    "CREATE INDEX IF NOT EXISTS audit_accesslog_at_brin ON consent_accesslog USING brin (at)",
    # Denied attempts are rare: a partial index keeps the "denied attempts" report and the
    # outcome filter fast without indexing the allowed majority.
    "CREATE INDEX IF NOT EXISTS audit_accesslog_denied_at "
    "ON consent_accesslog (at DESC, id DESC) WHERE outcome = 'denied'",
]


def pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_INDEXES:
            schema_editor.execute(statement, None)


def drop_pg_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in ("audit_accesslog_purpose_at_id", "audit_accesslog_at_brin",
                     "audit_accesslog_denied_at"):
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}", None)


def baseline_grants(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Purpose = apps.get_model("consent", "Purpose")
    GrantSnapshot = apps.get_model("audit", "GrantSnapshot")
    all_codes = sorted(Purpose.objects.values_list("code", flat=True))
    now = timezone.now()
    rows = []
    for user in User.objects.filter(is_staff=True) | User.objects.filter(is_superuser=True):
        groups = list(user.groups.values_list("name", flat=True))
        if not user.is_active:
            superuser, reviewer, codes = False, False, []
        elif user.is_superuser:
            superuser, reviewer, codes = True, True, all_codes
        else:
            superuser = False
            reviewer = "Compliance reviewer" in groups
            codes = sorted(set(Purpose.objects.filter(groups__user=user).values_list("code", flat=True)))
        rows.append(GrantSnapshot(user_id=user.pk, at=now, is_superuser=superuser,
                                  is_reviewer=reviewer, purposes="," + ",".join(codes) + ","
                                  if codes else ","))
    GrantSnapshot.objects.bulk_create(rows)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("consent", "0002_purposes_roles_policy_v1"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(baseline_grants, migrations.RunPython.noop),
        *gate_function_operations(),
        *[op for table in STRICT_TABLES for op in append_only(table)],
        *[op for table in HISTORY_TABLES for op in append_only(table, erasable=True)],
        migrations.RunPython(pg_indexes, drop_pg_indexes),
    ]
