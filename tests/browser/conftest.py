"""Browser journeys in real headless Chromium (Debian's package) driven by Playwright.

Skipped, with a clear reason, when no ``chromium`` is on the PATH; CI sets REQUIRE_BROWSER_TESTS=1,
which turns that skip into a failure.
"""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in this thread; the Django test code around it is sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("REQUIRE_BROWSER_TESTS"):
            pytest.fail("REQUIRE_BROWSER_TESTS is set but chromium is not installed")
        pytest.skip("browser tests skipped: no chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="vi-VN", base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def _migration_data_snapshot(django_db_setup, django_db_blocker):
    """The test database's migration data (purposes, policy 1.0) as Django serialized it."""
    from django.db import connections

    return getattr(connections["default"], "_test_serialized_contents", None)


@pytest.fixture(autouse=True)
def _migration_data(request, _migration_data_snapshot):
    """Give a transactional browser test the data that migrations load.

    ``serialized_rollback`` restores it from the connection's snapshot; after the Playwright
    session of test_no_third_party_requests, the connection the next transactional test sees
    has no snapshot (observed: ``_test_serialized_contents`` missing), so that restore silently
    did nothing and /signup/ answered 500. Put the data back from the session's copy.
    """
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("_django_db_helper")
    from django.db import connections

    from consent.models import PolicyVersion

    if _migration_data_snapshot and not PolicyVersion.objects.exists():
        connections["default"].creation.deserialize_db_from_string(_migration_data_snapshot)
