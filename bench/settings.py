"""Benchmark-only settings: the portal's settings with a URLconf that adds a bare baseline view."""

import warnings

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

# The benchmark requests no static files, so a checkout without collectstatic is fine: silence
# WhiteNoise's "No directory at: .../staticfiles/" warning, which every worker printed at start.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)
