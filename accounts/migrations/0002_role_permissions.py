"""Give the three roles the admin permissions their work needs (purposes are granted in consent).

Support and Account management see and change customers and see logins; the Compliance reviewer
sees them too (masked: no purpose) plus consent records and the access log. Everybody sees the
purposes and policy versions read-only. Publishing a policy version stays with superusers.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

STAFF = [
    "accounts.view_customer",
    "accounts.change_customer",
    "accounts.view_user",
    "consent.view_purpose",
    "consent.view_policyversion",
    "consent.view_consentrecord",
]
ROLE_PERMISSIONS = {
    "Support": STAFF,
    "Account management": STAFF,
    "Compliance reviewer": [
        "accounts.view_customer",
        "accounts.view_user",
        "consent.view_purpose",
        "consent.view_policyversion",
        "consent.view_consentrecord",
        "consent.view_accesslog",
    ],
}


def forwards(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so they can be granted.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("consent", "0002_purposes_roles_policy_v1"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
