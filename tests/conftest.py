"""Shared fixtures. Test data is made through the portal's own services (tests/factories.py)."""

import os

# Settings refuse to start without SECRET_KEY unless DEBUG; tests run with DEBUG off.
os.environ.setdefault("SECRET_KEY", "pytest-only-secret-key-" + "k" * 40)

import pytest  # noqa: E402

from tests import factories  # noqa: E402


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def policy(db):
    from consent.selectors import policy_current

    return policy_current()


@pytest.fixture
def customer(db):
    return factories.make_customer()


@pytest.fixture
def superuser(db):
    return factories.make_staff(email="root@excelcrm.example", superuser=True)


@pytest.fixture
def support_user(db):
    return factories.make_staff(email="support@excelcrm.example", role="Support")


@pytest.fixture
def account_manager(db):
    return factories.make_staff(email="accounts@excelcrm.example", role="Account management")


@pytest.fixture
def reviewer(db):
    return factories.make_staff(email="reviewer@excelcrm.example", role="Compliance reviewer")


@pytest.fixture
def declare():
    """Declare a purpose for a logged-in test client through the admin's purpose page."""

    def _declare(client, purpose, reference=""):
        response = client.post("/admin/purpose/", {"purpose": purpose, "reference": reference})
        assert response.status_code == 302, response.content[:2000]
        return response

    return _declare


@pytest.fixture(autouse=True, scope="session")
def _audit_flush_through_gate():
    """Let pytest-django's flush (after transactional and live-server tests) pass the audit
    tables' append-only triggers, through the audited gate (audit/management/commands/flush.py)."""
    from django.conf import settings

    settings.AUDIT_FLUSH_THROUGH_GATE = True
    yield


@pytest.fixture
def seal_wait(settings):
    """Seal without waiting on open transactions (tests run inside one)."""
    settings.AUDIT_SEAL_WAIT_SECONDS = 0


def _reseed_reference_data():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("consent.migrations.0002_purposes_roles_policy_v1")
    migration.forwards(apps, None)


@pytest.fixture
def reference_data(db):
    """Purposes, roles and policy 1.0 (from a data migration), present even after a flush."""
    _reseed_reference_data()


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    """pytest-django's flush after each transactional or live-server test also empties the
    data-migration rows (purposes, roles, policy 1.0); put them back before the next such test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    ) or bool({"live_server", "transactional_db"} & set(request.fixturenames))
    if transactional:
        request.getfixturevalue("transactional_db")
        _reseed_reference_data()


@pytest.fixture(autouse=True)
def _erasure_ledger_file(settings, tmp_path):
    """Each test writes its own erasure ledger file (never the developer's var/)."""
    settings.ERASURE_LEDGER_FILE = tmp_path / "erasure-ledger.jsonl"


@pytest.fixture
def customer_client(client, customer):
    """A test client signed in as the ``customer`` fixture."""
    client.force_login(customer.user)
    return client


@pytest.fixture(autouse=True)
def _role_permissions_in_transactional_tests(request, _reference_data_in_transactional_tests):
    """After a flush, also put back the admin permissions each app's ``0002_role_permissions``
    migration grants to the roles (idempotent)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    ) or bool({"live_server", "transactional_db"} & set(request.fixturenames))
    if not transactional:
        return
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app_config.name}.migrations.0002_role_permissions")
        except ModuleNotFoundError:
            continue
        for role, names in getattr(module, "ROLE_PERMISSIONS", {}).items():
            group, _ = Group.objects.get_or_create(name=role)
            for name in names:
                app_label, codename = name.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
