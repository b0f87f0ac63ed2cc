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
