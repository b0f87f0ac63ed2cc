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


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (vi): a request in English, or a test that
    switched, leaves its language active in the thread, and a later test would read English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


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
    from django.db.backends.base.creation import BaseDatabaseCreation

    from audit.erasure import test_flush_gate

    settings.AUDIT_FLUSH_THROUGH_GATE = True
    # serialized_rollback restores the migrations' rows by saving them again into the emptied
    # tables; policy versions refuse changes outside that gate, so the restore passes it too.
    restore = BaseDatabaseCreation.deserialize_db_from_string

    def restore_through_gate(self, data):
        from django.core.management import call_command

        # Empty first (the flush command passes the gate itself): after a transactional test's
        # flush, post_migrate has re-created content types and permissions under other ids than
        # the snapshot's, and restoring over them broke on their unique names (seen after
        # tests/audit/test_append_only.py).
        call_command(
            "flush",
            verbosity=0,
            interactive=False,
            inhibit_post_migrate=True,
            database=self.connection.alias,
        )
        with test_flush_gate(using=self.connection.alias):
            return restore(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = restore_through_gate
    yield
    BaseDatabaseCreation.deserialize_db_from_string = restore


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
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.management import create_contenttypes

    # A serialized-rollback test's flush skips post_migrate (Django leaves the rows to the next
    # such test's restore), so a plain transactional test after it found no permissions at all
    # (seen: the signup journey, then the support journey). Both calls are idempotent.
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
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


@pytest.fixture(autouse=True, scope="session")
def _plain_http():
    """Tests speak plain HTTP: no HTTPS redirect, no secure-only cookies, no HSTS.

    Session-scoped, so that it also holds for the session-wide ``live_server`` of browser tests.
    """
    from django.test.utils import override_settings

    override = override_settings(SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False,
                                 CSRF_COOKIE_SECURE=False, SECURE_HSTS_SECONDS=0)
    override.enable()
    yield
    override.disable()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _staff_sessions_verified_by_second_factor(request, monkeypatch):
    """``client.force_login(staff)`` and ``client.login(...)`` give a verified session.

    Staff pages (/admin/, /audit/) require a one-time code (security/middleware.py). So that tests
    of other features can keep logging staff in with the test client, its internal ``_login``
    (used by both ``force_login`` and ``login``) gives a staff user a confirmed authenticator
    device and marks the session verified by it. Tests marked ``@pytest.mark.real_otp`` see the
    real behaviour (a password alone reaches no staff page).
    """
    if request.node.get_closest_marker("real_otp"):
        return
    from django.test import Client

    original = Client._login

    def _login(self, user, backend=None):
        original(self, user, backend)
        if not (user.is_staff or user.is_superuser):
            return
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="pytest", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "_login", _login)


@pytest.fixture
def edit_version():
    """Load an admin change form as an editor would; return its optimistic-lock field.

    Change forms of personal data carry a signed fingerprint of what was loaded
    (security/locking.py); a POST without it is refused as an edit conflict.
    """
    from security.locking import VERSION_FIELD

    def _edit_version(client, url):
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return {VERSION_FIELD: response.context["adminform"].form[VERSION_FIELD].value()}

    return _edit_version


@pytest.fixture(scope="session")
def _migration_data_snapshot(django_db_setup, django_db_blocker):
    """The test database's migration data (purposes, policy 1.0) as Django serialized it."""
    from django.db import connections

    return getattr(connections["default"], "_test_serialized_contents", None)


@pytest.fixture(autouse=True)
def _serialized_rollback_restores(request):
    """Make ``serialized_rollback=True`` always give the test the data that migrations load.

    Django restores it from the snapshot on the connection. After the Playwright session of
    tests/browser/test_no_third_party_requests.py the connection that later transactional tests
    see has no snapshot (observed: ``_test_serialized_contents`` missing), so the restore silently
    did nothing and the next such test (the signup journey, the PostgreSQL backup round trip)
    found no policy version. Put the data back from the session's copy.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("serialized_rollback"):
        return
    snapshot = request.getfixturevalue("_migration_data_snapshot")
    request.getfixturevalue("_django_db_helper")
    from django.db import connections

    from consent.models import PolicyVersion

    if snapshot and not PolicyVersion.objects.exists():
        from django.core.management import call_command

        # Empty again (that flush re-created content types and permissions), then restore.
        call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
        connections["default"].creation.deserialize_db_from_string(snapshot)
