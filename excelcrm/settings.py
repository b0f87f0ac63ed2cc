"""Settings for the ExcelCRM Privacy Portal, read from the environment (django-environ).

Every variable is documented in `.env.example`. An optional `.env` file in the project folder is
read for convenience; it never overrides a variable already set in the real environment.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG is on.")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "consent.apps.PortalAdminConfig",  # django.contrib.admin with the portal's site
    # Before django.contrib.auth so that its createsuperuser (run in an access context) wins.
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "phonenumber_field",
    "simple_history",
    "consent",
    "devices",
    "licensing",
    "notices",
    "care",
    "audit",
    "rights",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "security",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A server error under /api/ is answered as problem+json (after Django logged it).
    "security.middleware.ApiServerErrorMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "security.middleware.RateLimitMiddleware",
    "security.logging.PostedValuesScrubMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Security (security/middleware.py): session idle/absolute timeouts, then two factors on
    # every /admin/ and /audit/ page; axes turns a locked-out login into the lockout page.
    "security.middleware.SessionTimeoutMiddleware",
    "security.middleware.StaffTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A signed-in customer must accept (or decline) a newer policy version before going further.
    "rights.middleware.PolicyAcceptanceMiddleware",
    # Last, so that it wraps the view itself: one transaction per request, the access context,
    # and the batched access-log write at the end of that transaction.
    "consent.middleware.AccessContextMiddleware",
]

ROOT_URLCONF = "excelcrm.urls"
WSGI_APPLICATION = "excelcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameter binding lets psycopg prepare a statement once a connection has run it
    # PREPARE_THRESHOLD times: later runs skip parsing and planning (the app's hot-path query
    # spent 1.1 of its 1.5 ms planning). No connection pooler runs between the portal and the
    # database; behind one in transaction mode (PgBouncer < 1.21), set PREPARE_THRESHOLD=-1.
    threshold = env.int("PREPARE_THRESHOLD", default=5)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=threshold if threshold >= 0 else None
    )
# Each request runs in one transaction opened by consent.middleware.AccessContextMiddleware
# (it must also write the access log inside that transaction), so ATOMIC_REQUESTS stays off.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# User.email is unique case-insensitively through a UniqueConstraint on Lower("email"), which this
# check does not recognise.
SILENCED_SYSTEM_CHECKS = ["auth.E003", "auth.W004"]  # W004: E003 with custom backends
LOGIN_URL = "admin:login"
# Where a customer lands after signing in without a ?next= (staff are sent on from there).
LOGIN_REDIRECT_URL = "accounts:home"
# The lockout check comes first, so a locked-out login is refused before any password hashing.
AUTHENTICATION_BACKENDS = [
    "security.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2 first: new and re-hashed passwords use it; older hashes still verify and are upgraded.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "security.validators.StaffMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Times are stored in UTC; TIME_ZONE is the zone they are shown in.
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Ho_Chi_Minh")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves collected static files with content-hashed names (cached forever).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ExcelCRM <no-reply@excelcrm.example>")

PHONENUMBER_DEFAULT_REGION = "VN"
PHONENUMBER_DB_FORMAT = "E164"

SIMPLE_HISTORY_REVERT_DISABLED = True

# Purpose declarations in the admin end after this many seconds without activity.
ACCESS_PURPOSE_IDLE_SECONDS = env.int("ACCESS_PURPOSE_IDLE_SECONDS", default=30 * 60)

# Working-day clocks (consent/workdays.py) follow Vietnam's working days as the
# maintained `holidays` package knows them (Labour Code art. 112 and the government's yearly
# notices: Tết and Hùng Kings by the lunar calendar, observed days off, swapped working days).
# PUBLIC_HOLIDAYS adds days off it does not know yet (ISO dates: a decree newer than the
# installed package).
PUBLIC_HOLIDAYS = env.list("PUBLIC_HOLIDAYS", default=[])

# Logs and error emails never carry personal data: the formatter and the mail handler scrub email
# addresses and phone numbers, and the error reporter hides POST values and frame variables
# (security/logging.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"scrubbed": {"()": "security.logging.ScrubbingFormatter"}},
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "scrubbed"},
        "mail_admins": {
            "class": "security.logging.ScrubbingAdminEmailHandler",
            "filters": ["require_debug_false"],
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Mobile app API and devices (devices/): bearer tokens expire after this many days; request bodies
# over this many bytes are refused with 413 (checked before Django's DATA_UPLOAD_MAX_MEMORY_SIZE).
DEVICES_TOKEN_TTL_DAYS = env.int("DEVICES_TOKEN_TTL_DAYS", default=90)
DEVICES_API_MAX_BODY_BYTES = env.int("DEVICES_API_MAX_BODY_BYTES", default=64 * 1024)
# The app's idempotent full-state reports (register, permissions PUT, reads) commit without waiting
# for the WAL flush on PostgreSQL (see README "Mobile app API"); False makes every commit wait.
DEVICES_API_ASYNC_COMMIT = env.bool("DEVICES_API_ASYNC_COMMIT", default=False)

# --- Licences, renewal and update notices, customer care and complaints (issue 5) ---
# The account that scheduled commands act as (created on first use, cannot sign in).
SYSTEM_ACTOR_EMAIL = env.str("SYSTEM_ACTOR_EMAIL", default="system@excelcrm.example")
# Days before expiry at which send_renewal_notices sends a notice (one per licence, window, term).
RENEWAL_NOTICE_DAYS = env.list("RENEWAL_NOTICE_DAYS", cast=int, default=[30, 7, 1])
# Notices are claimed, sent, marked and access-logged in batches of this size (2,000 and more
# access-log rows are written with COPY on PostgreSQL).
NOTICES_BATCH_SIZE = env.int("NOTICES_BATCH_SIZE", default=2000)
# A notice claimed but not marked sent or failed for this long belongs to a crashed run: retried.
NOTICES_STALE_CLAIM_MINUTES = env.int("NOTICES_STALE_CLAIM_MINUTES", default=30)
# A queued update notice is retried (every cron run) until each failed notice was tried this often.
NOTICES_MAX_ATTEMPTS = env.int("NOTICES_MAX_ATTEMPTS", default=5)
# Sent notices are marked (with their access-log rows) in a short commit every this many messages
# or seconds, whichever comes first: a run killed outright re-sends at most one such sub-batch.
NOTICES_MARK_EVERY = env.int("NOTICES_MARK_EVERY", default=20)
NOTICES_MARK_SECONDS = env.float("NOTICES_MARK_SECONDS", default=1.0)
# Complaints: acknowledge within this many working days, resolve within this many calendar days.
CARE_COMPLAINT_ACK_WORKING_DAYS = env.int("CARE_COMPLAINT_ACK_WORKING_DAYS", default=2)
CARE_COMPLAINT_RESOLVE_DAYS = env.int("CARE_COMPLAINT_RESOLVE_DAYS", default=15)
# Questions and support requests: answer within this many working days.
CARE_REQUEST_DUE_WORKING_DAYS = env.int("CARE_REQUEST_DUE_WORKING_DAYS", default=5)

# Audit trail (audit/): seals, verification, reviewer views.
# An actor who accesses more customers than this within one hour appears in the bulk-access alerts.
AUDIT_BULK_ACCESS_THRESHOLD = env.int("AUDIT_BULK_ACCESS_THRESHOLD", default=50)
# seal_audit_log waits at most this long for transactions older than its high-water mark.
AUDIT_SEAL_WAIT_SECONDS = env.float("AUDIT_SEAL_WAIT_SECONDS", default=30.0)
# rollup_audit_log rolls up an hour once it ended this long ago and no transaction older than
# its end (plus this margin) is open (audit/rollup.py).
AUDIT_ROLLUP_MARGIN_MINUTES = env.int("AUDIT_ROLLUP_MARGIN_MINUTES", default=10)
# A reports-page query running longer than this is cancelled and the reviewer is asked for a
# shorter period (PostgreSQL; keep it under the web server's worker timeout, gunicorn's 30 s).
AUDIT_REPORT_QUERY_SECONDS = env.float("AUDIT_REPORT_QUERY_SECONDS", default=20.0)
# Rows per page in the access-log explorer.
AUDIT_PAGE_SIZE = env.int("AUDIT_PAGE_SIZE", default=50)

# Data-subject rights (rights app): legal clocks (Decree 356/2025), email change, erasure ledger,
# breach register.
RIGHTS_ACKNOWLEDGE_WORKING_DAYS = env.int("RIGHTS_ACKNOWLEDGE_WORKING_DAYS", default=2)
RIGHTS_COMPLETE_DAYS = env.int("RIGHTS_COMPLETE_DAYS", default=15)
RIGHTS_EXTENSION_MAX_DAYS = env.int("RIGHTS_EXTENSION_MAX_DAYS", default=15)
EMAIL_CHANGE_MAX_AGE_SECONDS = env.int("EMAIL_CHANGE_MAX_AGE_SECONDS", default=2 * 24 * 3600)
# Append-only file of erased subject ids, kept OUTSIDE the database (and its backups) so that
# `manage.py replay_erasures` can re-apply erasures after a restore.
ERASURE_LEDGER_FILE = env.path(
    "ERASURE_LEDGER_FILE", default=BASE_DIR / "var" / "erasure-ledger.jsonl"
)
BREACH_NOTIFY_HOURS = env.int("BREACH_NOTIFY_HOURS", default=72)

# --- Security (issue 7, security/ app): clause 5 of the policy -------------------------------
# Behind TLS in production. HTTPS defaults on whenever DEBUG is off; set HTTPS=0 only for a
# plain-HTTP loopback run (tests, the load benchmark).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    # Only when a trusted reverse proxy terminates TLS and sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many trusted reverse proxies stand in front of the portal, each appending the address it
# received the request from to X-Forwarded-For (nginx: $proxy_add_x_forwarded_for). The client's
# address is the entry that many places from the right (consent.middleware.client_ip, used by the
# lockout, the rate limits, the access log and consent records). 0: the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if BEHIND_TLS_PROXY else 0)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): nothing inline, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Sessions: a staff session ends after 30 idle minutes or 12 hours in all, a customer's after two
# idle hours (security/middleware.py SessionTimeoutMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=7 * 24 * 3600)
SESSION_IDLE_SECONDS_STAFF = env.int("SESSION_IDLE_SECONDS_STAFF", default=30 * 60)
SESSION_ABSOLUTE_SECONDS_STAFF = env.int("SESSION_ABSOLUTE_SECONDS_STAFF", default=12 * 3600)
SESSION_IDLE_SECONDS_CUSTOMER = env.int("SESSION_IDLE_SECONDS_CUSTOMER", default=2 * 3600)

# Cache (rate limits): Redis in production (CACHE_URL=redis://127.0.0.1:6379/1), memory otherwise.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Lockout (django-axes): 5 failures per username and, separately, per IP address lock for 15
# minutes; checked by security.backends.LockoutBackend before any password is hashed.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "security.views.lockout"
# The portal's one client-address rule (honours TRUSTED_PROXY_COUNT, never a spoofable header).
AXES_CLIENT_IP_CALLABLE = "consent.middleware.client_ip"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_USERNAME_CALLABLE = "security.backends.lockout_username"
AXES_VERBOSE = False
# No admin pages for the lockout records: they list customers' emails and addresses with no
# declared purpose and no access-log row. Unlock with `manage.py axes_reset_username <email>`.
AXES_ENABLE_ADMIN = False

# Rate limits on POSTs per client IP: (name, path regex, requests, seconds). Password-reset paths
# are matched by pattern so the customer and admin reset pages are covered wherever they live.
RATE_LIMITS = [
    ("signup", r"^/signup/$", env.int("RATE_LIMIT_SIGNUP", default=10), 3600),
    ("password-reset", r"^/[^?]*password[-_]?reset", env.int("RATE_LIMIT_RESET", default=5), 3600),
]

# Two factors (django-otp) on every page under these prefixes; staff without a device enrol first.
OTP_REQUIRED_PATH_PREFIXES = ["/admin/", "/audit/"]
OTP_TOTP_ISSUER = "ExcelCRM Privacy Portal"
OTP_RECOVERY_CODES = 10

# Error emails go to ADMINS ("Name <address>, ..."); they carry no personal data.
ADMINS = [("ExcelCRM operations", address) for address in env.list("ADMINS", default=[])]
SERVER_EMAIL = env.str("SERVER_EMAIL", default="ExcelCRM <no-reply@excelcrm.example>")
DEFAULT_EXCEPTION_REPORTER_FILTER = "security.logging.PersonalDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "security.logging.PersonalDataExceptionReporter"
