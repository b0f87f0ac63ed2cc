"""Production settings: check --deploy is clean; every page sends the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _production_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DEBUG", "HTTPS", "SECURE_HSTS_SECONDS",
                          # set by the browser tests for Playwright's event loop only
                          "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update({
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "portal.excelcrm.example",
        "DATABASE_URL": "sqlite:////tmp/excelcrm-deploy-check.sqlite3",
        "CACHE_URL": "redis://127.0.0.1:6379/1",  # as in production (README) and CI
    })
    return env


def test_check_deploy_reports_no_warning_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout


def _deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_warns_when_rate_limits_would_count_per_process():
    env = {key: value for key, value in _production_env().items() if key != "CACHE_URL"}
    result = _deploy_check(env)
    assert result.returncode != 0
    assert "excelcrm.W001" in result.stderr + result.stdout


@pytest.mark.parametrize(("debug", "backend", "warned"), [
    (False, "django.core.cache.backends.locmem.LocMemCache", True),
    (False, "django.core.cache.backends.dummy.DummyCache", True),
    (False, "django.core.cache.backends.redis.RedisCache", False),
    (True, "django.core.cache.backends.locmem.LocMemCache", False),
])
def test_shared_cache_check(settings, debug, backend, warned):
    from django.core.checks import registry

    from security.checks import check_shared_cache

    settings.DEBUG = debug
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:6379/1"}}
    assert bool(check_shared_cache()) == warned
    assert check_shared_cache in registry.registry.get_checks(include_deployment_checks=True)
    assert check_shared_cache not in registry.registry.get_checks()  # a deploy check only


def test_production_settings_are_secure_by_default():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
        " s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SAMESITE, s.X_FRAME_OPTIONS,"
        " s.SECURE_REFERRER_POLICY, s.STORAGES['staticfiles']['BACKEND']]))"
    )
    env = _production_env() | {"DJANGO_SETTINGS_MODULE": "excelcrm.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.strip() == (
        '[true, true, true, 31536000, "Lax", "DENY", "same-origin", '
        '"whitenoise.storage.CompressedManifestStaticFilesStorage"]'
    )


@pytest.mark.parametrize("url", ["/signup/", "/policy/", "/account/login/", "/admin/login/"])
def test_pages_send_csp_frame_referrer_and_nosniff_headers(client, url, policy):
    response = client.get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_or_style_in_portal_pages(client, policy, customer):
    pages = [client.get(u).content.decode() for u in ("/signup/", "/policy/", "/account/login/")]
    client.force_login(customer.user)
    pages.append(client.get("/account/").content.decode())
    for html in pages:
        assert "<script>" not in html and "<script " not in html.replace('<script src=', '')
        assert " style=" not in html and "<style" not in html


def test_https_sends_hsts_and_secure_samesite_cookies(client, customer, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    response = client.post(reverse("accounts:login"),
                           {"username": customer.user.email, "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_plain_http_is_redirected_to_https_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    from django.test import Client

    response = Client().get("/signup/")
    assert response.status_code == 301 and response.url.startswith("https://")
