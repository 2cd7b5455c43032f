"""Settings for wxsite, read from the environment.

With no environment variables at all the project runs in the embedded mode: SQLite and a
filesystem Celery broker under ``var/``, secrets generated into ``var/`` once. Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL and Redis. With ``DJANGO_DEBUG=false``
(production) the secrets must come from the environment.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("WXSITE_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _secret(name: str) -> str:
    """A secret from the environment; in debug mode generated once into var/."""
    value = env(name, default="")
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. Production mode (DJANGO_DEBUG=false) needs SECRET_KEY and "
            "SALT_KEY: together they are the key that encrypts AppSecrets and EncodingAESKeys."
        )
    path = VAR_DIR / name.lower()
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# django-fernet-encrypted-fields derives the field encryption keys from SECRET_KEY and SALT_KEY.
SALT_KEY = env.list("SALT_KEY", default=[]) or [_secret("SALT_KEY")]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Public base URL of this site, used to show each account's callback URL.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_celery_beat",
    "wxsite",
    "wechat",
    "accounts",
    "messaging",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if DEBUG:  # whitenoise serves static files in production; runserver does it in the embedded mode
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "wxsite.urls"
WSGI_APPLICATION = "wxsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'wxsite.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so row-locking code paths serialise on SQLite too.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# Connections are kept between requests. No per-request health check: it costs a round trip on every
# callback, and a connection that broke is discarded after the one request that hit the error.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "wxsite_cache",
            # Callback signatures are remembered here for the timestamp window; culling starts past this many.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set, else a filesystem broker in var/.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery" / "broker"
    (_broker_dir / "out").mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "messaging.inbound_dispatch_stale": {
        "task": "messaging.tasks.inbound_dispatch_stale",
        "schedule": timedelta(minutes=1),
    },
    "wechat.tokens_refresh_due": {
        "task": "wechat.tasks.tokens_refresh_due",
        "schedule": timedelta(minutes=1),
    },
    "wechat.api_call_log_prune": {
        "task": "wechat.tasks.api_call_log_prune",
        "schedule": crontab(hour=3, minute=30),
    },
    "accounts.followers_sync_nightly": {
        "task": "accounts.tasks.followers_sync_nightly",
        "schedule": crontab(hour=2, minute=15),
    },
    "accounts.blacklists_pull_nightly": {
        "task": "accounts.tasks.blacklists_pull_nightly",
        "schedule": crontab(hour=2, minute=45),
    },
    "messaging.template_pushes_dispatch_due": {
        "task": "messaging.template_messages.tasks.template_pushes_dispatch_due",
        "schedule": timedelta(minutes=1),
    },
    "messaging.mass_dispatch_due": {
        "task": "messaging.mass_tasks.mass_dispatch_due",
        "schedule": timedelta(minutes=1),
    },
    "messaging.mass_batches_poll": {
        "task": "messaging.mass_tasks.mass_batches_poll",
        "schedule": timedelta(minutes=5),
    },
}

# WeChat
WECHAT_API_BASE_URL = env("WECHAT_API_BASE_URL", default="https://api.weixin.qq.com/").rstrip("/") + "/"
WECHAT_CONNECT_TIMEOUT = env.float("WECHAT_CONNECT_TIMEOUT", default=3.05)
WECHAT_READ_TIMEOUT = env.float("WECHAT_READ_TIMEOUT", default=10.0)
# Seconds of validity below which a stored access_token is refreshed before use (DESIGN §3).
WECHAT_TOKEN_MIN_REMAINING = 300
# Beat refreshes tokens that expire within this many seconds.
WECHAT_TOKEN_REFRESH_AHEAD = 600
# An egress proxy for calls to WeChat (e.g. to leave through the whitelisted IP); empty: direct.
WECHAT_HTTPS_PROXY = env("WECHAT_HTTPS_PROXY", default="")
# Seconds a process trusts its last read of an access_token row before reading it again.
WECHAT_TOKEN_LOCAL_CACHE_SECONDS = env.float("WECHAT_TOKEN_LOCAL_CACHE_SECONDS", default=30.0)
# ApiCallLog rows are written in batches of this many (and at least every second, and at the end of
# each request and task); 1 writes every call at once.
WECHAT_API_CALL_LOG_BATCH = env.int("WECHAT_API_CALL_LOG_BATCH", default=100)
WECHAT_CALLBACK_MAX_BODY = env.int("WECHAT_CALLBACK_MAX_BODY", default=64 * 1024)
# A signed callback whose timestamp is further than this from our clock (either way) is refused, and a
# signature is remembered this long with its body's digest so that it cannot sign another body.
WECHAT_CALLBACK_TIMESTAMP_WINDOW = env.int("WECHAT_CALLBACK_TIMESTAMP_WINDOW", default=300)
# The callback's per-process account cache: at most this many appids, found ones kept this long (seconds);
# unknown appids are remembered only briefly.
WECHAT_CALLBACK_ACCOUNT_CACHE_SIZE = env.int("WECHAT_CALLBACK_ACCOUNT_CACHE_SIZE", default=1024)
WECHAT_CALLBACK_ACCOUNT_CACHE_SECONDS = env.float("WECHAT_CALLBACK_ACCOUNT_CACHE_SECONDS", default=10.0)
WECHAT_CALLBACK_ACCOUNT_MISS_SECONDS = env.float("WECHAT_CALLBACK_ACCOUNT_MISS_SECONDS", default=2.0)
WECHAT_API_CALL_LOG_DAYS = env.int("WECHAT_API_CALL_LOG_DAYS", default=30)
# requests transport adapters by URL prefix; the sandbox mounts an in-process adapter here.
WECHAT_TRANSPORT_ADAPTERS = {"http://sandbox.inprocess/": "sandbox.transport.InProcessAdapter"}
# Base URL that points an account at the offline sandbox, served in-process.
SANDBOX_API_BASE_URL = "http://sandbox.inprocess/sandbox/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
