"""Create the five purposes, the three roles and the client's first policy version."""

import datetime
import hashlib
from pathlib import Path

from django.db import migrations

from consent.purposes import PURPOSES, ROLE_PURPOSES

POLICY_DIR = Path(__file__).resolve().parent.parent / "data" / "policy"


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def forwards(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    Group = apps.get_model("auth", "Group")
    PolicyVersion = apps.get_model("consent", "PolicyVersion")

    for data in PURPOSES:
        Purpose.objects.update_or_create(code=data["code"], defaults=data)
    for role, codes in ROLE_PURPOSES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for purpose in Purpose.objects.filter(code__in=codes):
            purpose.groups.add(group)

    text_vi = (POLICY_DIR / "1.0.vi.txt").read_text(encoding="utf-8")
    text_en = (POLICY_DIR / "1.0.en.txt").read_text(encoding="utf-8")
    PolicyVersion.objects.get_or_create(
        label="1.0",
        defaults={
            "effective_date": datetime.date(2026, 1, 1),
            "text_vi": text_vi,
            "text_en": text_en,
            "sha256_vi": _sha256(text_vi),
            "sha256_en": _sha256(text_en),
            "published_at": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
