"""Give the roles the admin permissions for licences, notices and care requests.

Account management grants and changes licences and writes update notices; Support handles
care requests; the Compliance reviewer sees all of them (masked: reviewers declare no purpose).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Account management": [
        "licensing.view_plan",
        "licensing.add_plan",
        "licensing.change_plan",
        "licensing.view_licence",
        "licensing.add_licence",
        "licensing.change_licence",
        "notices.view_announcement",
        "notices.add_announcement",
        "notices.change_announcement",
        "notices.view_notice",
    ],
    "Support": [
        "licensing.view_plan",
        "care.view_carerequest",
        "care.add_carerequest",
        "care.change_carerequest",
    ],
    "Compliance reviewer": [
        "licensing.view_licence",
        "notices.view_notice",
        "notices.view_announcement",
        "care.view_carerequest",
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
        ("care", "0001_initial"),
        ("licensing", "0001_initial"),
        ("notices", "0001_initial"),
        ("accounts", "0002_role_permissions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
