"""Give the roles the admin permissions for rights requests and the breach register.

Support handles data-subject requests (under the purpose "complaints"); the Compliance reviewer
keeps the breach register and watches the requests' clocks and the erasure ledger.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Support": [
        "rights.view_datasubjectrequest",
        "rights.change_datasubjectrequest",
        "rights.view_breach",
    ],
    "Compliance reviewer": [
        "rights.view_datasubjectrequest",
        "rights.view_erasurerecord",
        "rights.view_breach",
        "rights.add_breach",
        "rights.change_breach",
    ],
}


def forwards(apps, schema_editor):
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
        ("rights", "0001_initial"),
        ("consent", "0002_purposes_roles_policy_v1"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
