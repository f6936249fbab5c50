"""crmadmin settings: one module, every value from the environment (django-environ).

Development defaults are safe for a laptop; with ``DEBUG`` off the process refuses
to start until the production settings are given (see ``_require_production_settings``).
Every variable is listed, with a one-line explanation, in ``.env.example``.
"""

from pathlib import Path

import environ
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
# Sandbox behaviour, for demos and tests: added latency and share of calls that fail.
CRM_SANDBOX_LATENCY_MS = env.int("CRM_SANDBOX_LATENCY_MS", default=0)
CRM_SANDBOX_FAILURE_RATE = env.float("CRM_SANDBOX_FAILURE_RATE", default=0.0)
CRM_SANDBOX_TOKEN_LIFETIME = env.int("CRM_SANDBOX_TOKEN_LIFETIME", default=899)
# An audit entry still pending after this many seconds is shown as "outcome unknown".
AUDIT_PENDING_UNKNOWN_AFTER = env.int("AUDIT_PENDING_UNKNOWN_AFTER", default=300)


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
    "crmadmin.core",
    "crmadmin.accounts",
    "crmadmin.audit",
    "crmadmin.codes",
    "crmadmin.customers",
]
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
    "crmadmin.core.middleware.RequestContextMiddleware",
    "crmadmin.core.middleware.HtmxMessagesMiddleware",
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("vi", _("Vietnamese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

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
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
