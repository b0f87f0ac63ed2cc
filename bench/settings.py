"""Benchmark-only settings: the portal's settings with a URLconf that adds a bare baseline view."""

from excelcrm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}

# gunicorn on loopback speaks plain HTTP: no redirect to HTTPS (every request would be a 301).
SECURE_SSL_REDIRECT = False
