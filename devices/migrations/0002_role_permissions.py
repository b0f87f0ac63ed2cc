"""Let the staff roles see devices, permission states and app tokens in the admin.

What they then see is decided by the declared purpose (``devices.admin``): clear under customer
care or licensing, masked without a purpose. Support and Account management may also revoke app
tokens (``change_apitoken``).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = ["devices.view_device", "devices.view_devicepermission", "devices.view_apitoken"]
ROLE_PERMISSIONS = {
    "Support": [*VIEW, "devices.change_apitoken"],
    "Account management": [*VIEW, "devices.change_apitoken"],
    "Compliance reviewer": VIEW,
}


def forwards(apps, schema_editor):
    # Permissions are normally created after migrate; create them now so they can be granted.
    app_config = apps.get_app_config("devices")
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
        ("devices", "0001_initial"),
        ("accounts", "0002_role_permissions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
