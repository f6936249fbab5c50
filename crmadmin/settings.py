"""crmadmin settings: one module, every value from the environment (django-environ).

Development defaults are safe for a laptop; with ``DEBUG`` off the process refuses
to start until the production settings are given (see ``_require_production_settings``).
Every variable is listed, with a one-line explanation, in ``.env.example``.
"""

from datetime import timedelta
from pathlib import Path

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE names another file (tests point it at /dev/null to ignore a developer's .env).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- The upstream CRM -------------------------------------------------------
PORT = env.int("PORT", default=8000)
CRM_SANDBOX = env.bool("CRM_SANDBOX", default=DEBUG)
CRM_API_URL = env.str(
    "CRM_API_URL", default=f"http://127.0.0.1:{PORT}/sandbox" if CRM_SANDBOX else ""
).rstrip("/")
CRM_USERNAME = env.str("CRM_USERNAME", default="sandbox" if CRM_SANDBOX else "")
CRM_PASSWORD = env.str("CRM_PASSWORD", default="sandbox-password" if CRM_SANDBOX else "")
CRM_API_TOKEN = env.str("CRM_API_TOKEN", default="")
CRM_VBOT_ID = env.str("CRM_VBOT_ID", default="VBOT-DEMO" if CRM_SANDBOX else "")
CRM_PROJECT_CODE = env.str("CRM_PROJECT_CODE", default="DEMO" if CRM_SANDBOX else "")
CRM_CONNECT_TIMEOUT = env.float("CRM_CONNECT_TIMEOUT", default=3.05)
CRM_READ_TIMEOUT = env.float("CRM_READ_TIMEOUT", default=15.0)
# Renew a cached token this many seconds before the CRM says it expires.
CRM_TOKEN_MARGIN = env.int("CRM_TOKEN_MARGIN", default=60)
# Wall-clock seconds one CRM call may take, token renewal and its one retry included; also
# how long a crashed writer's lock on a record can outlive it. Keep the web server's worker
# timeout above it (README: gunicorn --timeout).
CRM_CALL_BUDGET = env.float("CRM_CALL_BUDGET", default=25.0)
# Fernet keys that encrypt the CRM's tokens in the shared cache, newest first: the first
# encrypts, all decrypt (rotation: put a new key first, drop the old one a token lifetime
# later). `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key())"`
CRM_TOKEN_CACHE_KEYS = env.list("CRM_TOKEN_CACHE_KEYS", default=[])
# What the CRM's undocumented rejection codes mean, over the sandbox's defaults
# (crmadmin/upstream/rejections.py): "1101=duplicate_code,1102=not_found".
CRM_REJECTION_CODES = env.dict("CRM_REJECTION_CODES", default={})
# Sandbox behaviour, for demos and tests: added latency and share of calls that fail.
CRM_SANDBOX_LATENCY_MS = env.int("CRM_SANDBOX_LATENCY_MS", default=0)
CRM_SANDBOX_FAILURE_RATE = env.float("CRM_SANDBOX_FAILURE_RATE", default=0.0)
CRM_SANDBOX_TOKEN_LIFETIME = env.int("CRM_SANDBOX_TOKEN_LIFETIME", default=899)
# Imports: where uploaded files are kept while they are previewed and applied, and limits.
IMPORT_DIR = BASE_DIR / env.str("IMPORT_DIR", default="var/imports")  # relative to the project
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# An audit entry still pending after this many seconds is shown as "outcome unknown".
AUDIT_PENDING_UNKNOWN_AFTER = env.int("AUDIT_PENDING_UNKNOWN_AFTER", default=300)
# Phone numbers typed without a country code belong to this region (ISO 3166 code); its
# numbers go to the CRM in national form, others in E.164 (crmadmin/customers/phones.py).
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="VN").strip().upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"PHONE_DEFAULT_REGION={PHONE_DEFAULT_REGION!r} is no region code phonenumbers knows "
        "(two letters, e.g. VN)."
    )
# Calls one background job keeps in flight at once, and an optional ceiling on the calls
# per second that all job workers together send (0: none), to protect the CRM.
CRM_MAX_CONCURRENCY = env.int("CRM_MAX_CONCURRENCY", default=4)
CRM_RATE_LIMIT = env.float("CRM_RATE_LIMIT", default=0.0)

# --- Background jobs (crmadmin/jobs/, on django.tasks) ---------------------------
# "database": django-tasks-db, the queue is a table (SQLite or PostgreSQL, no other
# server). "rq": django-tasks-rq with RQ on Redis at JOBS_REDIS_URL.
JOBS_BACKEND = env.str("JOBS_BACKEND", default="database")
JOBS_QUEUE = env.str("JOBS_QUEUE", default="crmadmin-jobs")
JOBS_REDIS_URL = env.str("JOBS_REDIS_URL", default="redis://127.0.0.1:6379/0")
# A running job's worker proves it is alive this often; a job whose proof is older than
# JOBS_STALE_AFTER seconds is taken over and resumed by another worker.
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=2.0)
JOBS_STALE_AFTER = env.float("JOBS_STALE_AFTER", default=30.0)

# The audit log's hash chain (crmadmin/audit/models.py): the HMAC key (keep it stable and
# out of the database; by default derived from SECRET_KEY), how often the chain's head is
# written to the log and to the optional append-only anchor file.
AUDIT_CHAIN_KEY = env.str("AUDIT_CHAIN_KEY", default="")
AUDIT_ANCHOR_EVERY = env.int("AUDIT_ANCHOR_EVERY", default=1000)
AUDIT_ANCHOR_FILE = env.str("AUDIT_ANCHOR_FILE", default="")


def _require_production_settings() -> None:
    if DEBUG:
        return
    missing = []
    if not SECRET_KEY:
        missing.append("SECRET_KEY")
    if not ALLOWED_HOSTS:
        missing.append("ALLOWED_HOSTS")
    if not CRM_API_URL:
        missing.append("CRM_API_URL")
    if not CRM_API_TOKEN and not (CRM_USERNAME and CRM_PASSWORD):
        missing.append("CRM_USERNAME and CRM_PASSWORD (or CRM_API_TOKEN)")
    if not CRM_VBOT_ID:
        missing.append("CRM_VBOT_ID")
    if not CRM_PROJECT_CODE:
        missing.append("CRM_PROJECT_CODE")
    if missing:
        raise ImproperlyConfigured(
            "crmadmin cannot start with DEBUG off: missing required setting(s): "
            + ", ".join(missing)
            + ". Set them in the environment or in .env (see .env.example)."
        )


_require_production_settings()

if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-development-only-key-never-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
if not AUDIT_CHAIN_KEY:
    import hashlib

    AUDIT_CHAIN_KEY = hashlib.sha256(f"crmadmin.audit.chain\n{SECRET_KEY}".encode()).hexdigest()

# --- Application ------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "crmadmin.core",
    "crmadmin.accounts",
    "crmadmin.audit",
    "crmadmin.codes",
    "crmadmin.customers",
    "crmadmin.reconcile",
    "crmadmin.jobs",
    "crmadmin.imports",
    "crmadmin.demo",
    "django_tasks_db",
]
if JOBS_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
if CRM_SANDBOX:
    INSTALLED_APPS.append("crmadmin.sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Once the user, messages and the page's security headers are in place, so its 400
    # page is the dashboard's own; before anything reads the address.
    "crmadmin.core.middleware.RefuseControlCharactersMiddleware",
    "crmadmin.core.middleware.RequestContextMiddleware",
    "crmadmin.core.middleware.HtmxMessagesMiddleware",
    "crmadmin.core.middleware.NoStoreForSignedInMiddleware",
    "crmadmin.accounts.middleware.IdleTimeoutMiddleware",
    # Last, as django-axes asks: it turns a lock-out into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crmadmin.urls"
WSGI_APPLICATION = "crmadmin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crmadmin.core.context_processors.navigation",
                "crmadmin.core.context_processors.time_zone",
            ],
            "builtins": ["django.templatetags.i18n"],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server, the sandbox and the tests share the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if JOBS_BACKEND not in ("database", "rq"):
    raise ImproperlyConfigured("JOBS_BACKEND must be 'database' or 'rq'.")
# django-tasks-rq 0.12 is written against the django_tasks backport, but its backend and
# its RQ job class also accept Django's own Task objects (django_tasks_rq/compat.py), so
# Django's framework enqueues through it unchanged. What differs is only what we do not
# use: enqueue() returns the backport's TaskResult and the backport's signals fire.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if JOBS_BACKEND == "database"
        else "django_tasks_rq.RQBackend",
        "QUEUES": [JOBS_QUEUE],
    }
}
RQ_QUEUES = {JOBS_QUEUE: {"URL": JOBS_REDIS_URL, "DEFAULT_TIMEOUT": -1}}

# The token cache must be shared by every worker process: the database cache is,
# with no extra service. CACHE_URL (e.g. redis://...) overrides it.
CACHES = {
    "default": env.cache("CACHE_URL", default="dbcache://crmadmin_cache"),
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username and IP before the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes): a username and IP pair is locked out after this many
# failed sign-ins, for this many minutes; an administrator unlocks it in /admin/ (Axes:
# access attempts) or with `manage.py axes_reset_username USERNAME`.
AXES_FAILURE_LIMIT = env.int("AUTH_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AUTH_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crmadmin.accounts.views.locked_out"
# The same client address as the audit log (REMOTE_ADDR; see core/middleware.py).
AXES_CLIENT_IP_CALLABLE = "crmadmin.core.middleware.client_ip_of"
AXES_VERBOSE = False

# Sessions end after this long without a request (sliding expiry: each request renews
# it). A password change ends the user's other sessions (Django's session hash).
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=8 * 3600)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("vi", _("Vietnamese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True
# One date and one date-time format per language (crmadmin/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["crmadmin.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- Security ---------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own default sends "django" to a second console handler in DEBUG, which
        # printed every line (the reloader's "Watching for file changes" too) twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
