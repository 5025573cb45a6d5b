"""Settings of the EDS portal, read from environment variables.

One module for every environment; ``DJANGO_ENV`` selects the defaults:

- ``development`` (default, ``make run``): SQLite files and an embedded filesystem broker under
  ``var/``, so no server is needed;
- ``test`` (``make test``): PostgreSQL and Redis when reachable, else SQLite and an eager queue;
- ``production``: everything explicit; refuses to start without a secret key, hosts, a
  database and a broker.

Every variable is documented in ``config.env.sample``.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from eds_portal.env import env_bool, env_int, env_list, env_str
from eds_portal.probe import postgres_reachable, redis_reachable

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV={DJANGO_ENV!r}: use development, test or production (config.env.sample)."
    )
PRODUCTION = DJANGO_ENV == "production"
TESTING = DJANGO_ENV == "test"

VAR_DIR = Path(env_str("EDS_VAR_DIR", str(BASE_DIR / "var")))

# --- Core -------------------------------------------------------------------------------------

if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", required=True)
else:
    # Development and tests only: never used when DJANGO_ENV=production.
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY", "insecure-development-key-not-for-production-" + "x" * 20
    )

DEBUG = env_bool("DJANGO_DEBUG", DJANGO_ENV == "development")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be false when DJANGO_ENV=production.")

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is required in production (comma-separated host names)."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "guardian",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "eds_portal",
    "warehouse",
    "projects",
    "access",
]

MIDDLEWARE = [
    # First: every log line and audit event of the request carries its id.
    "eds_portal.logs.RequestIdMiddleware",
    # Sees the final answer: no-store on what carries personal or project data (issue 17).
    "eds_portal.middleware.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Paths, query strings and form bodies holding NUL or control characters: a 400 (after the
    # user is known, so that the page has its menu).
    "eds_portal.hostile_input.RefuseHostileInputMiddleware",
    "eds_portal.middleware.AuditContextMiddleware",
    "eds_portal.middleware.RequireTwoFactorMiddleware",
    # After the second factor: the confidentiality charter in force before any page (SEC-05).
    "eds_portal.accounts.gate.RequireCharterMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks, so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "eds_portal.urls"
WSGI_APPLICATION = "eds_portal.wsgi.application"
ASGI_APPLICATION = "eds_portal.asgi.application"

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
                "eds_portal.context_processors.portal",
            ],
        },
    }
]

# --- Databases --------------------------------------------------------------------------------
# Three aliases (docs/architecture.md): the portal, the pseudonymised warehouse, the vault.

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/eds_portal"
REQUIRE_SERVICES = env_bool("EDS_REQUIRE_SERVICES", False)


def _sibling_database(url: str, suffix: str) -> str:
    """Same server, database named ``<portal database>_<suffix>``."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "eds_portal"
    return urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def _sqlite(name: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / f"{name}.sqlite3",
        "OPTIONS": {
            # A worker and the web process write concurrently in the demo.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "TEST": {"NAME": None},
    }


database_url = env_str("DATABASE_URL")
if PRODUCTION and not database_url:
    raise ImproperlyConfigured("DATABASE_URL is required in production (postgres://...).")
if TESTING and not database_url and (REQUIRE_SERVICES or postgres_reachable(DEFAULT_POSTGRES_URL)):
    database_url = DEFAULT_POSTGRES_URL
if TESTING and database_url and not postgres_reachable(database_url):
    if REQUIRE_SERVICES:
        raise ImproperlyConfigured(
            f"EDS_REQUIRE_SERVICES is set but PostgreSQL is not reachable at {database_url}."
        )
    database_url = None

DATABASES: dict[str, Any]
if database_url:
    _conn_max_age = env_int("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0)
    DATABASES = {
        "default": dj_database_url.parse(database_url, conn_max_age=_conn_max_age),
        "warehouse": dj_database_url.parse(
            env_str("WAREHOUSE_DATABASE_URL") or _sibling_database(database_url, "warehouse"),
            conn_max_age=_conn_max_age,
        ),
        "vault": dj_database_url.parse(
            env_str("VAULT_DATABASE_URL") or _sibling_database(database_url, "vault"),
            conn_max_age=_conn_max_age,
        ),
    }
    for _db in DATABASES.values():
        _db["CONN_HEALTH_CHECKS"] = True
    if TESTING:
        # Between transactional tests Django empties tables with TRUNCATE, which the audit
        # trail otherwise refuses (eds_portal migration 0004).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c eds.allow_audit_truncate=on"
    DATABASE_BACKEND_LABEL = "PostgreSQL"
else:
    DATABASES = {
        "default": _sqlite("portal"),
        "warehouse": _sqlite("warehouse"),
        "vault": _sqlite("vault"),
    }
    DATABASE_BACKEND_LABEL = "SQLite"

DATABASE_ROUTERS = ["eds_portal.routers.DatabaseRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Celery -----------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
if TESTING:
    if not REDIS_URL and (REQUIRE_SERVICES or redis_reachable(DEFAULT_REDIS_URL)):
        REDIS_URL = DEFAULT_REDIS_URL
    if REDIS_URL and not redis_reachable(REDIS_URL):
        if REQUIRE_SERVICES:
            raise ImproperlyConfigured(
                f"EDS_REQUIRE_SERVICES is set but Redis is not reachable at {REDIS_URL}."
            )
        REDIS_URL = None

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
BROKER_DIR = VAR_DIR / "broker"
if PRODUCTION and not CELERY_BROKER_URL:
    raise ImproperlyConfigured("REDIS_URL (or CELERY_BROKER_URL) is required in production.")

# Tasks may run for a long time (provisioning); the broker must not redeliver a message that a
# live worker still holds, so every time limit stays below the visibility timeout.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3 * 3600)
if CELERY_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "CELERY_TASK_TIME_LIMIT must be lower than CELERY_VISIBILITY_TIMEOUT, or the broker "
        "would hand a running task to a second worker."
    )
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 300

CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any]
if CELERY_BROKER_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
    QUEUE_BACKEND_LABEL = "Redis"
elif TESTING:
    CELERY_BROKER_URL = "memory://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    QUEUE_BACKEND_LABEL = "eager (in-process)"
else:
    # Embedded broker for the demo: kombu's filesystem transport, no server needed.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    QUEUE_BACKEND_LABEL = "filesystem (embedded)"
    # Any process may send a task (a management command of the demo too), not only the worker.
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)

# Unit tests run tasks eagerly; the integration tests start a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = TESTING
CELERY_TASK_EAGER_PROPAGATES = TESTING
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Authentication, roles and two-factor login -------------------------------------------------

AUTH_USER_MODEL = "eds_portal.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out credentials before any other backend runs.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing strength is not what the tests measure; PBKDF2 at full cost would dominate them.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# django-guardian: no anonymous object permissions; the public pages need none.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

# django-otp
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Portail EDS SOS Médecins")
OTP_TOTP_THROTTLE_FACTOR = 1

# django-axes: throttle failed logins per account seen from one address (locking an account
# for everyone would let anybody lock out anybody). Spellings of an address count as one.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form posts the e-mail address as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "eds_portal.throttling.login_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# django-axes asks the portal's one function for the client's address (eds_portal.client_address).
AXES_CLIENT_IP_CALLABLE = "eds_portal.client_address.client_ip"

# Sessions end after inactivity: every request pushes the expiry forward.
SESSION_IDLE_TIMEOUT_MINUTES = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Client address behind proxies ------------------------------------------------------------

# Reverse proxies in front of the portal (a load balancer, nginx) that each append the address
# they were reached from to X-Forwarded-For. 0: the portal is reached directly and the header is
# ignored (anyone can write it). With N, the client is the N-th address from the right. Login
# throttling, the public pages' flood counters and the audit trail all use this one address.
EDS_PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
# Addresses or networks (CIDR) the last proxy connects from. When set, X-Forwarded-For is read
# only on connections from them: a client reaching the web process directly cannot name itself.
EDS_TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES", [])
if EDS_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"DJANGO_PROXY_COUNT={EDS_PROXY_COUNT} must be 0 or more.")
for _proxy in EDS_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"DJANGO_TRUSTED_PROXIES: {_proxy!r} is not an address or a network (e.g. 10.0.0.0/8)."
        ) from _exc

# --- Audit trail: client addresses (LOG-04) ---------------------------------------------------

# Public pages and anonymous requests record a hash of the client's address, never the address:
# HMAC keyed with SECRET_KEY and a random salt drawn for each period of this many days (the same
# address gives the same hash within a period, so floods can be followed). Each salt is deleted
# this many days after its period starts (nightly): the hash can then no longer be traced back,
# even by trying every address. The retention must exceed the period.
EDS_ADDRESS_KEY_DAYS = env_int("EDS_ADDRESS_KEY_DAYS", 7)
EDS_ADDRESS_KEY_RETENTION_DAYS = env_int("EDS_ADDRESS_KEY_RETENTION_DAYS", 14)
if EDS_ADDRESS_KEY_DAYS < 1:
    raise ImproperlyConfigured(f"EDS_ADDRESS_KEY_DAYS={EDS_ADDRESS_KEY_DAYS} must be at least 1.")
if EDS_ADDRESS_KEY_RETENTION_DAYS <= EDS_ADDRESS_KEY_DAYS:
    raise ImproperlyConfigured(
        "EDS_ADDRESS_KEY_RETENTION_DAYS must exceed EDS_ADDRESS_KEY_DAYS: the previous period's "
        "key is needed while a flood window straddles two periods."
    )

# --- Retention (RET-01, RET-02, RET-04, RET-06, RET-07) ---------------------------------------

# Every retention period, with the référentiel's default. The nightly purge
# (eds_portal.retention) deletes what is due and records counts, never content; the DPO's page
# (/retention/) and the public pages read these values.
# Warehouse data: each item 20 years after its own date (RET-01).
EDS_RETENTION_WAREHOUSE_YEARS = env_int("EDS_RETENTION_WAREHOUSE_YEARS", 20)
# Audit trail: 1 year (RET-02); up to 3 years (1095 days) only with a documented justification.
EDS_RETENTION_AUDIT_DAYS = env_int("EDS_RETENTION_AUDIT_DAYS", 365)
EDS_RETENTION_AUDIT_JUSTIFICATION = env_str("EDS_RETENTION_AUDIT_JUSTIFICATION", "")
# Feasibility counts asked (the guard compares each count with the last
# EDS_FEASIBILITY_WINDOW_DAYS): log data, kept as the trail is.
EDS_RETENTION_FEASIBILITY_LOG_DAYS = env_int("EDS_RETENTION_FEASIBILITY_LOG_DAYS", 365)
# Public flood counters (hashes of addresses): only the last hour counts.
EDS_RETENTION_PUBLIC_ATTEMPT_DAYS = env_int("EDS_RETENTION_PUBLIC_ATTEMPT_DAYS", 14)
# Vault identities of refused or withdrawn opposition requests, after their closing.
EDS_RETENTION_CLOSED_IDENTITY_DAYS = env_int("EDS_RETENTION_CLOSED_IDENTITY_DAYS", 365)
# Closed opposition requests and their letters: kept to prove compliance (RET-06).
EDS_RETENTION_CLOSED_OPPOSITION_YEARS = env_int("EDS_RETENTION_CLOSED_OPPOSITION_YEARS", 5)
# Accounts unused for this long are deactivated and their personal data erased (RET-04).
EDS_RETENTION_DORMANT_ACCOUNT_YEARS = env_int("EDS_RETENTION_DORMANT_ACCOUNT_YEARS", 5)
for _name, _value in [
    ("EDS_RETENTION_WAREHOUSE_YEARS", EDS_RETENTION_WAREHOUSE_YEARS),
    ("EDS_RETENTION_AUDIT_DAYS", EDS_RETENTION_AUDIT_DAYS),
    ("EDS_RETENTION_FEASIBILITY_LOG_DAYS", EDS_RETENTION_FEASIBILITY_LOG_DAYS),
    ("EDS_RETENTION_PUBLIC_ATTEMPT_DAYS", EDS_RETENTION_PUBLIC_ATTEMPT_DAYS),
    ("EDS_RETENTION_CLOSED_IDENTITY_DAYS", EDS_RETENTION_CLOSED_IDENTITY_DAYS),
    ("EDS_RETENTION_CLOSED_OPPOSITION_YEARS", EDS_RETENTION_CLOSED_OPPOSITION_YEARS),
    ("EDS_RETENTION_DORMANT_ACCOUNT_YEARS", EDS_RETENTION_DORMANT_ACCOUNT_YEARS),
]:
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")
if EDS_RETENTION_AUDIT_DAYS > 1095:
    raise ImproperlyConfigured(
        f"EDS_RETENTION_AUDIT_DAYS={EDS_RETENTION_AUDIT_DAYS}: logs are kept 3 years at most "
        "(RET-02)."
    )
if EDS_RETENTION_AUDIT_DAYS > 365 and not EDS_RETENTION_AUDIT_JUSTIFICATION.strip():
    raise ImproperlyConfigured(
        "EDS_RETENTION_AUDIT_DAYS above 365 needs EDS_RETENTION_AUDIT_JUSTIFICATION (RET-02)."
    )

# --- Audit trail: epochs and signed checkpoints (LOG-04) --------------------------------------

# Each closed calendar month of the trail ends with a checkpoint signed with an Ed25519 key that
# the database does not hold (a PEM file; `manage.py audit_signing_key --create PATH` writes
# one). Without a key no checkpoint is written and the nightly verification says so. The
# verifying key may be given alone (auditors, the verification command on another machine).
EDS_AUDIT_SIGNING_KEY_FILE = env_str("EDS_AUDIT_SIGNING_KEY_FILE", "")
EDS_AUDIT_VERIFY_KEY_FILE = env_str("EDS_AUDIT_VERIFY_KEY_FILE", "")
# Checkpoints are also written here (outside the database) and mailed to the DPOs; archives of
# purged periods (events and checkpoint) go to the archive directory.
EDS_AUDIT_CHECKPOINT_DIR = Path(
    env_str("EDS_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints"))
)
EDS_AUDIT_ARCHIVE_DIR = Path(env_str("EDS_AUDIT_ARCHIVE_DIR", str(VAR_DIR / "audit-archives")))
# Log review (LOG-03): downloads by one person within an hour above this raise an alert.
EDS_REVIEW_DOWNLOAD_BURST = env_int("EDS_REVIEW_DOWNLOAD_BURST", 20)

# --- Security headers -------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Health-data site: nothing from elsewhere, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One unambiguous date format per language, long and short alike (eds_portal/formats).
FORMAT_MODULE_PATH = ["eds_portal.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production, whitenoise serves straight from the source folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Uploads live outside anything a web server serves; views check permissions first.
        "OPTIONS": {"location": env_str("EDS_PRIVATE_STORAGE_DIR", str(VAR_DIR / "private"))},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Email ------------------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Portail EDS <eds-portail@localhost>")
# Seconds a connection to the mail server may hang before the attempt counts as failed.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Mail leaves through a task (eds_portal/mail.py), never from the request: an attempt that
# fails is tried again after EDS_MAIL_RETRY_SECONDS, then twice that, and so on (at most
# EDS_MAIL_RETRY_MAX_SECONDS apart), EDS_MAIL_MAX_ATTEMPTS times in all; then, or at once when
# the server refuses the address for good, the mail is listed for the data office and the DPO.
EDS_MAIL_MAX_ATTEMPTS = env_int("EDS_MAIL_MAX_ATTEMPTS", 6)
EDS_MAIL_RETRY_SECONDS = env_int("EDS_MAIL_RETRY_SECONDS", 60)
EDS_MAIL_RETRY_MAX_SECONDS = env_int("EDS_MAIL_RETRY_MAX_SECONDS", 3600)
for _name, _value in (
    ("EMAIL_TIMEOUT", EMAIL_TIMEOUT),
    ("EDS_MAIL_MAX_ATTEMPTS", EDS_MAIL_MAX_ATTEMPTS),
    ("EDS_MAIL_RETRY_SECONDS", EDS_MAIL_RETRY_SECONDS),
    ("EDS_MAIL_RETRY_MAX_SECONDS", EDS_MAIL_RETRY_MAX_SECONDS),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")
if EMAIL_TIMEOUT >= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be shorter than the tasks' time limit.")

# --- REST API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The session carries the second factor verified at login; a request that sends a token
        # is authenticated by the token alone (and not refused for CSRF because it also holds
        # a session cookie).
        "eds_portal.api.authentication.SessionUnlessToken",
        # Researchers' scripts. A token carries no second factor, so DenyUnlessDeclared refuses
        # it for every account that must pass one (staff roles).
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["eds_portal.api.permissions.DenyUnlessDeclared"],
    "DEFAULT_PARSER_CLASSES": [
        "eds_portal.api.parsers.StrictTextJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Documents the errors every operation may answer (eds_portal/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "eds_portal.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # An uncaught Refused (eds_portal/errors.py) becomes 409 {"detail", "reasons"}.
    "EXCEPTION_HANDLER": "eds_portal.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EDS Portal API",
    "DESCRIPTION": "API of the governance portal of the SOS Médecins health data warehouse.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["eds_portal.api.permissions.DenyUnlessDeclared"],
    # Swagger UI and Redoc come from static/vendor/ (no CDN: strict CSP). The documentation
    # views render templates/api/, whose scripts are all files (no inline script).
    "SWAGGER_UI_DIST": f"/{STATIC_URL.strip('/')}/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL.strip('/')}/eds_portal/favicon.svg",
    "REDOC_DIST": f"/{STATIC_URL.strip('/')}/vendor/redoc",
    # No validator badge: it would send the schema's address to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Search runs in a worker built from a blob: URL, which the CSP does not allow.
    "REDOC_UI_SETTINGS": {"disableSearch": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "eds_portal.api.schema.close_request_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "projects.models.ProjectStatus",
        "TeamRoleEnum": "projects.models.TeamRole",
        "SessionStatusEnum": "projects.models.SessionStatus",
        "RecommendationEnum": "projects.models.Recommendation",
        "VoteChoiceEnum": "projects.models.VoteChoice",
        "InterestWithdrawalStatusEnum": "projects.models.WithdrawalStatus",
        "VariableVerdictEnum": "projects.models.VariableVerdict",
        "OutputKindEnum": "access.models_outputs.OutputKind",
        "OutputVerdictEnum": "access.models_outputs.ReviewVerdict",
    },
}

# --- Logging ----------------------------------------------------------------------------------

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO")
# json: one JSON object per line, for the log collector; plain: for a terminal. Both carry the
# request id (eds_portal/logs.py).
LOG_FORMAT = env_str("DJANGO_LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT={LOG_FORMAT!r}: use json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "eds_portal.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s"},
        "json": {"()": "eds_portal.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Failed logins are audited; the axes messages would repeat them with the address.
        "axes": {"level": "WARNING"},
        # One line per request; DJANGO_REQUEST_LOG=false leaves it to the proxy's access log.
        "eds_portal.request": {
            "level": "INFO" if env_bool("DJANGO_REQUEST_LOG", not TESTING) else "WARNING"
        },
    },
}

# --- Health (/healthz) ------------------------------------------------------------------------

# Whether /healthz asks for a Celery worker (a ping, answered within EDS_HEALTH_WORKER_TIMEOUT
# seconds) and for beat's heartbeat (written every minute by a periodic task, stale after
# EDS_HEALTH_BEAT_STALE_SECONDS). Off where tasks run eagerly (unit tests): there is no worker.
EDS_HEALTH_CHECK_WORKER = env_bool("EDS_HEALTH_CHECK_WORKER", not TESTING)
try:
    EDS_HEALTH_WORKER_TIMEOUT = float(env_str("EDS_HEALTH_WORKER_TIMEOUT", "1.0"))
except ValueError as _exc:
    raise ImproperlyConfigured(
        "EDS_HEALTH_WORKER_TIMEOUT is a number of seconds (e.g. 1.5)."
    ) from _exc
EDS_HEALTH_BEAT_STALE_SECONDS = env_int("EDS_HEALTH_BEAT_STALE_SECONDS", 300)
# Free space the datasets' folder needs, in megabytes, for /healthz to say it is healthy (the
# test machine's disk is not what the tests check).
EDS_HEALTH_MIN_FREE_MB = env_int("EDS_HEALTH_MIN_FREE_MB", 1 if TESTING else 5 * 1024)
# /healthz keeps its answer this many seconds: a load balancer (or anyone: it is public) asking
# often does not ping the worker each time.
EDS_HEALTH_CACHE_SECONDS = env_int("EDS_HEALTH_CACHE_SECONDS", 10)
if EDS_HEALTH_BEAT_STALE_SECONDS < 120:
    raise ImproperlyConfigured(
        "EDS_HEALTH_BEAT_STALE_SECONDS must be at least 120 (the heartbeat comes every minute)."
    )
if not 0 < EDS_HEALTH_WORKER_TIMEOUT <= 10:
    raise ImproperlyConfigured("EDS_HEALTH_WORKER_TIMEOUT must be between 0 and 10 seconds.")

# --- Portal -----------------------------------------------------------------------------------

# Shown in the header and used in e-mails.
EDS_PORTAL_NAME = env_str("EDS_PORTAL_NAME", "Portail EDS CONTACT")

# Secret of the internal person keys (HMAC-SHA256). Outside production a fixed key serves the
# synthetic warehouse; in production it must come from the environment or a secret file.
EDS_WAREHOUSE_KEY = env_str(
    "EDS_WAREHOUSE_KEY",
    None if PRODUCTION else "development-only-warehouse-key-synthetic-data-0001",
    required=PRODUCTION,
)
# Counts from 1 to this value minus one are shown as "< N" (MIN-11).
EDS_SMALL_CELL_THRESHOLD = env_int("EDS_SMALL_CELL_THRESHOLD", 11)
# Closing a project requires the lead's final report (access/outputs/closeout.py, TRA-11).
EDS_CLOSEOUT_REPORT_REQUIRED = env_bool("EDS_CLOSEOUT_REPORT_REQUIRED", True)
# Results are due this many months after the end of access (RET-03); the lead is reminded
# EDS_RESULTS_REMINDER_DAYS before the due date and once after it (each reminder once).
EDS_RESULTS_DUE_MONTHS = env_int("EDS_RESULTS_DUE_MONTHS", 12)
EDS_RESULTS_REMINDER_DAYS = env_int("EDS_RESULTS_REMINDER_DAYS", 30)
if EDS_RESULTS_DUE_MONTHS < 0 or EDS_RESULTS_REMINDER_DAYS < 1:
    raise ImproperlyConfigured(
        "EDS_RESULTS_DUE_MONTHS must be 0 or more and EDS_RESULTS_REMINDER_DAYS 1 or more."
    )
# Feasibility counts resist differencing (warehouse.disclosure, README "Feasibility counts:
# disclosure control"): shown counts are perturbed by their cell key then rounded to this base;
# a count is compared with every count given (to anyone) in the last WINDOW_DAYS; each user gets
# at most DAILY_BUDGET counts a day.
EDS_FEASIBILITY_ROUNDING_BASE = env_int("EDS_FEASIBILITY_ROUNDING_BASE", 5)
EDS_FEASIBILITY_WINDOW_DAYS = env_int("EDS_FEASIBILITY_WINDOW_DAYS", 90)
EDS_FEASIBILITY_DAILY_BUDGET = env_int("EDS_FEASIBILITY_DAILY_BUDGET", 200)
for _name, _value in (
    ("EDS_SMALL_CELL_THRESHOLD", EDS_SMALL_CELL_THRESHOLD - 1),
    ("EDS_FEASIBILITY_ROUNDING_BASE", EDS_FEASIBILITY_ROUNDING_BASE),
    ("EDS_FEASIBILITY_WINDOW_DAYS", EDS_FEASIBILITY_WINDOW_DAYS),
    ("EDS_FEASIBILITY_DAILY_BUDGET", EDS_FEASIBILITY_DAILY_BUDGET),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name} is too small (see config.env.sample).")
if EDS_RETENTION_FEASIBILITY_LOG_DAYS < EDS_FEASIBILITY_WINDOW_DAYS:
    raise ImproperlyConfigured(
        "EDS_RETENTION_FEASIBILITY_LOG_DAYS must be at least EDS_FEASIBILITY_WINDOW_DAYS: the "
        "guard compares each count with those of the window."
    )
# Largest file accepted for upload (project attachments), in bytes.
EDS_MAX_UPLOAD_BYTES = env_int("EDS_MAX_UPLOAD_MB", 20) * 1024 * 1024
# Django writes every uploaded file to disk whatever its size; the first handler drops a file
# as soon as it passes EDS_MAX_UPLOAD_BYTES. Files above FILE_UPLOAD_MAX_MEMORY_SIZE (Django's
# 2.5 MB default) go to a temporary file rather than memory.
FILE_UPLOAD_HANDLERS = [
    "projects.uploads.UploadSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Stored uploads are private: readable by the portal's own account and group only.
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
# Days during which a team invitation link can be accepted.
EDS_INVITATION_DAYS = env_int("EDS_INVITATION_DAYS", 7)
# The portal's address as its users reach it, for the absolute links sent by e-mail.
EDS_PUBLIC_URL = env_str("EDS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
_public_url = urlsplit(EDS_PUBLIC_URL)
if _public_url.scheme not in {"http", "https"} or not _public_url.netloc:
    raise ImproperlyConfigured(
        f"EDS_PUBLIC_URL={EDS_PUBLIC_URL!r} is not an absolute http(s) address "
        "(e.g. https://eds-portail.example.fr)."
    )
# Password reset (Django's views): the link's lifetime, and how many requests an hour one
# client address and one account may make (counted in the audit trail; beyond, no mail).
PASSWORD_RESET_TIMEOUT = env_int("EDS_PASSWORD_RESET_HOURS", 2) * 3600
EDS_PASSWORD_RESET_PER_CLIENT_HOUR = env_int("EDS_PASSWORD_RESET_PER_CLIENT_HOUR", 10)
EDS_PASSWORD_RESET_PER_ACCOUNT_HOUR = env_int("EDS_PASSWORD_RESET_PER_ACCOUNT_HOUR", 3)
# Hours during which the link confirming a new e-mail address works.
EDS_EMAIL_CHANGE_HOURS = env_int("EDS_EMAIL_CHANGE_HOURS", 24)


# OpenID Connect providers (eds_portal/accounts/oidc.py; README "Single sign-on"): the names in
# EDS_OIDC_PROVIDERS, each configured by EDS_OIDC_<NAME>_* variables. The client secret is read
# from a file (a mounted secret), never from the environment itself.
def _oidc_provider(name: str) -> dict:
    prefix = f"EDS_OIDC_{name.upper()}_"
    secret_file = env_str(prefix + "CLIENT_SECRET_FILE", required=True)
    try:
        secret = Path(secret_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{prefix}CLIENT_SECRET_FILE={secret_file!r} cannot be read ({exc.strerror})."
        ) from exc
    return {
        "label": env_str(prefix + "LABEL", name),
        "issuer": env_str(prefix + "ISSUER", required=True).rstrip("/"),
        "client_id": env_str(prefix + "CLIENT_ID", required=True),
        "client_secret": secret,
        "scopes": env_str(prefix + "SCOPES", "openid email profile"),
        # Sent as acr_values (Pro Santé Connect and ProConnect expect one, e.g. "eidas1").
        "acr_values": env_str(prefix + "ACR_VALUES", ""),
        "claim_email": env_str(prefix + "CLAIM_EMAIL", "email"),
        "claim_name": env_str(prefix + "CLAIM_NAME", "name"),
        "claim_given_name": env_str(prefix + "CLAIM_GIVEN_NAME", "given_name"),
        "claim_family_name": env_str(prefix + "CLAIM_FAMILY_NAME", "family_name"),
        "claim_organisation": env_str(prefix + "CLAIM_ORGANISATION", ""),
        "create_accounts": env_bool(prefix + "CREATE_ACCOUNTS", False),
        "strong_acr": env_list(prefix + "STRONG_ACR", []),
        "strong_amr": env_list(prefix + "STRONG_AMR", []),
    }


EDS_OIDC_PROVIDERS = {name: _oidc_provider(name) for name in env_list("EDS_OIDC_PROVIDERS", [])}
# Accounts unused (no sign-in) for this many days are disabled every night, after a warning
# e-mail sent this many days before (SEC-04, RET-04).
EDS_ACCOUNT_INACTIVE_DAYS = env_int("EDS_ACCOUNT_INACTIVE_DAYS", 365)
EDS_ACCOUNT_INACTIVE_WARNING_DAYS = env_int("EDS_ACCOUNT_INACTIVE_WARNING_DAYS", 30)
if not 0 < EDS_ACCOUNT_INACTIVE_WARNING_DAYS < EDS_ACCOUNT_INACTIVE_DAYS:
    raise ImproperlyConfigured(
        "EDS_ACCOUNT_INACTIVE_WARNING_DAYS must be more than 0 and less than "
        "EDS_ACCOUNT_INACTIVE_DAYS."
    )
if PASSWORD_RESET_TIMEOUT < 3600 or EDS_EMAIL_CHANGE_HOURS < 1:
    raise ImproperlyConfigured(
        "EDS_PASSWORD_RESET_HOURS and EDS_EMAIL_CHANGE_HOURS must be at least 1."
    )
if EDS_INVITATION_DAYS < 1:
    raise ImproperlyConfigured(f"EDS_INVITATION_DAYS={EDS_INVITATION_DAYS} must be at least 1.")

# --- Transparency (TRA-09) ---------------------------------------------------------------------

# Days between the first publication of a project's page and its first provisioning: the
# persons concerned are informed and may object before any data leaves.
EDS_INFORMATION_WINDOW_DAYS = env_int("EDS_INFORMATION_WINDOW_DAYS", 30)
# The DPO's address, published on the transparency portal (TRA-02).
EDS_DPO_EMAIL = env_str("EDS_DPO_EMAIL", "dpo@sosmedecins-france.fr")
if EDS_INFORMATION_WINDOW_DAYS < 0:
    raise ImproperlyConfigured(
        f"EDS_INFORMATION_WINDOW_DAYS={EDS_INFORMATION_WINDOW_DAYS} must be 0 or more."
    )

# --- Provisioning (MIN-03, MIN-13, MIN-14) ----------------------------------------------------

# Secret from which each project's pseudonymisation key is derived (HMAC of the project reference
# and its key generation): never stored in the database; rotating a project's key is a new
# generation. Outside production a fixed development value serves the synthetic warehouse.
EDS_PROVISIONING_KEY = env_str(
    "EDS_PROVISIONING_KEY",
    None if PRODUCTION else "development-only-provisioning-key-synthetic-data-0001",
    required=PRODUCTION,
)
if EDS_PROVISIONING_KEY and len(EDS_PROVISIONING_KEY) < 32:
    raise ImproperlyConfigured("EDS_PROVISIONING_KEY needs at least 32 characters of secret.")
# Where published datasets live (a path every worker and the web processes share).
EDS_DATASETS_DIR = Path(env_str("EDS_DATASETS_DIR", str(VAR_DIR / "datasets")))
# Parts a run is split into; any worker takes any part.
EDS_PROVISIONING_PARTS = env_int("EDS_PROVISIONING_PARTS", 2)
# A trained edsnlp de-identification model (e.g. EDS-Pseudo) added to the rules that scrub free
# text (warehouse/deid/pipeline.py); a local directory, never downloaded. Empty: rules only.
EDS_DEID_MODEL_PATH = (env_str("EDS_DEID_MODEL_PATH", "") or "").strip()
if EDS_DEID_MODEL_PATH and not Path(EDS_DEID_MODEL_PATH).is_dir():
    raise ImproperlyConfigured(
        f"EDS_DEID_MODEL_PATH={EDS_DEID_MODEL_PATH} is not a directory: point it at a trained "
        "edsnlp model saved on this machine, or leave it empty for the rules alone."
    )
# MIN-05's manual check: how many scrubbed notes, drawn at random, the data steward reads before
# a dataset that delivers free text is published (all of them when there are fewer).
EDS_DEID_REVIEW_SAMPLE = env_int("EDS_DEID_REVIEW_SAMPLE", 50)
if EDS_DEID_REVIEW_SAMPLE < 1:
    raise ImproperlyConfigured("EDS_DEID_REVIEW_SAMPLE must be at least 1.")
# A worker writes a heartbeat this often; a part silent for EDS_PROVISIONING_STALE_SECONDS is
# lost and the reaper hands it to another worker, up to EDS_PROVISIONING_MAX_ATTEMPTS times.
EDS_PROVISIONING_HEARTBEAT_SECONDS = env_int("EDS_PROVISIONING_HEARTBEAT_SECONDS", 10)
EDS_PROVISIONING_STALE_SECONDS = env_int("EDS_PROVISIONING_STALE_SECONDS", 120)
EDS_PROVISIONING_MAX_ATTEMPTS = env_int("EDS_PROVISIONING_MAX_ATTEMPTS", 3)
# Minutes a download link stays valid (MIN-13).
EDS_DOWNLOAD_LINK_MINUTES = env_int("EDS_DOWNLOAD_LINK_MINUTES", 15)
# Minutes a recipient's download token (for scripts, created in a 2FA session) stays valid.
EDS_DOWNLOAD_TOKEN_MINUTES = env_int("EDS_DOWNLOAD_TOKEN_MINUTES", 60)
# Hours before a replaced dataset's files are destroyed (it is refused from its replacement on).
EDS_SUPERSEDED_GRACE_HOURS = env_int("EDS_SUPERSEDED_GRACE_HOURS", 0)
if EDS_SUPERSEDED_GRACE_HOURS < 0:
    raise ImproperlyConfigured(
        f"EDS_SUPERSEDED_GRACE_HOURS={EDS_SUPERSEDED_GRACE_HOURS} must be 0 or more."
    )
for _name, _value in (
    ("EDS_PROVISIONING_PARTS", EDS_PROVISIONING_PARTS),
    ("EDS_PROVISIONING_HEARTBEAT_SECONDS", EDS_PROVISIONING_HEARTBEAT_SECONDS),
    ("EDS_PROVISIONING_MAX_ATTEMPTS", EDS_PROVISIONING_MAX_ATTEMPTS),
    ("EDS_DOWNLOAD_LINK_MINUTES", EDS_DOWNLOAD_LINK_MINUTES),
    ("EDS_DOWNLOAD_TOKEN_MINUTES", EDS_DOWNLOAD_TOKEN_MINUTES),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")
if EDS_PROVISIONING_STALE_SECONDS <= 2 * EDS_PROVISIONING_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "EDS_PROVISIONING_STALE_SECONDS must exceed twice EDS_PROVISIONING_HEARTBEAT_SECONDS, or "
        "live parts would be taken for lost ones."
    )

# --- Commission (GOV-09) ------------------------------------------------------------------------

# Members present (patient representatives and the chair included) for a session to vote; at
# least one patient representative must be among them whatever this number.
EDS_QUORUM_MIN_MEMBERS = env_int("EDS_QUORUM_MIN_MEMBERS", 3)
# Rapporteurs the secretariat must assign to each file.
EDS_MIN_RAPPORTEURS = env_int("EDS_MIN_RAPPORTEURS", 2)
# Days before the due date when the rapporteur gets a reminder (another one the day after).
EDS_REVIEW_REMINDER_DAYS = env_int("EDS_REVIEW_REMINDER_DAYS", 3)
for _name, _value in (
    ("EDS_QUORUM_MIN_MEMBERS", EDS_QUORUM_MIN_MEMBERS),
    ("EDS_MIN_RAPPORTEURS", EDS_MIN_RAPPORTEURS),
    ("EDS_REVIEW_REMINDER_DAYS", EDS_REVIEW_REMINDER_DAYS),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")

# --- Opposition register (OPP-01 to OPP-15) -----------------------------------------------------

# Online requests per connection and hour before the form asks to confirm a further one, and the
# hard ceiling after which it keeps the form filled and asks to come back later or use the post.
EDS_OPPOSITION_SUBMISSIONS_PER_HOUR = env_int("EDS_OPPOSITION_SUBMISSIONS_PER_HOUR", 3)
EDS_OPPOSITION_SUBMISSIONS_CEILING = env_int("EDS_OPPOSITION_SUBMISSIONS_CEILING", 20)
# Wrong receipt number / birth date pairs per connection and hour on the status page.
EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR = env_int("EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR", 10)
# Days before a request's due date when the DPO is reminded (then daily until it is answered).
EDS_OPPOSITION_REMINDER_DAYS = env_int("EDS_OPPOSITION_REMINDER_DAYS", 7)
# Largest copy of an identity document accepted, in megabytes.
EDS_OPPOSITION_ID_COPY_MAX_MB = env_int("EDS_OPPOSITION_ID_COPY_MAX_MB", 5)
# OPP-11 "within a set delay": days the recipients of a delivered dataset have to delete the rows
# of a person who objects (told to the persons on their receipt).
EDS_OPPOSITION_DELETION_DAYS = env_int("EDS_OPPOSITION_DELETION_DAYS", 30)
for _name, _value in (
    ("EDS_OPPOSITION_DELETION_DAYS", EDS_OPPOSITION_DELETION_DAYS),
    ("EDS_OPPOSITION_SUBMISSIONS_PER_HOUR", EDS_OPPOSITION_SUBMISSIONS_PER_HOUR),
    ("EDS_OPPOSITION_SUBMISSIONS_CEILING", EDS_OPPOSITION_SUBMISSIONS_CEILING),
    ("EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR", EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR),
    ("EDS_OPPOSITION_REMINDER_DAYS", EDS_OPPOSITION_REMINDER_DAYS),
    ("EDS_OPPOSITION_ID_COPY_MAX_MB", EDS_OPPOSITION_ID_COPY_MAX_MB),
):
    if _value < 1:
        raise ImproperlyConfigured(f"{_name}={_value} must be at least 1.")
if EDS_OPPOSITION_SUBMISSIONS_CEILING < EDS_OPPOSITION_SUBMISSIONS_PER_HOUR:
    raise ImproperlyConfigured(
        "EDS_OPPOSITION_SUBMISSIONS_CEILING must be at least EDS_OPPOSITION_SUBMISSIONS_PER_HOUR."
    )
