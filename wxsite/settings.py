"""Settings for wxsite, read from the environment.

With no environment variables at all the project runs in the embedded mode: SQLite and a
filesystem Celery broker under ``var/``, secrets generated into ``var/`` once by ``python -m wxsite.var``
(``make run`` and ``make migrate`` run it; this module only reads). Setting ``DATABASE_URL`` and
``REDIS_URL`` switches to PostgreSQL and Redis. With ``DJANGO_DEBUG=false`` (production) the secrets must
come from the environment, the sandbox is not mounted and HTTPS is enforced. Every setting below is listed
with its variable in ``.env.example``; an empty variable means its default.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from wxsite import var

BASE_DIR = Path(__file__).resolve().parent.parent
env = var.read_env()

VAR_DIR = var.var_dir(env)

DEBUG = env.bool("DJANGO_DEBUG", default=True)


def _text(name: str, default: str) -> str:
    """A string setting; an empty variable (as .env.example lists them) means the default."""
    return env(name, default="") or default


# The values .env.example ships with: refused like a missing secret.
SECRET_PLACEHOLDER_PREFIX = "change-me"


def _secret(name: str) -> str:
    """A secret from the environment; in debug mode read from var/, where ``python -m wxsite.var`` put it."""
    value = env(name, default="").strip()
    if any(part.strip().startswith(SECRET_PLACEHOLDER_PREFIX) for part in value.split(",")):
        raise ImproperlyConfigured(
            f"{name} is still the placeholder of .env.example. Set it to a long random value, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. Production mode (DJANGO_DEBUG=false) needs SECRET_KEY and "
            "SALT_KEY: together they are the key that encrypts AppSecrets and EncodingAESKeys."
        )
    path = var.secret_path(VAR_DIR, name)
    if not path.exists():
        raise ImproperlyConfigured(
            f"{name} is not set and {path} does not exist. Run 'make migrate' (or 'python -m wxsite.var') once "
            "to generate the embedded mode's secrets, or set SECRET_KEY and SALT_KEY."
        )
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# django-fernet-encrypted-fields derives the field encryption keys from SECRET_KEY and SALT_KEY.
# Comma-separated: the first salt encrypts, all decrypt (rotation).
SALT_KEY = [salt.strip() for salt in _secret("SALT_KEY").split(",") if salt.strip()]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Public base URL of this site, used to show each account's callback URL.
SITE_URL = _text("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# HTTPS: on by default in production, off in the embedded mode (runserver speaks plain HTTP).
# Behind a TLS proxy that sets X-Forwarded-Proto (strip it from clients there).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL_HEADER", default=not DEBUG) else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)

# The offline WeChat (sandbox/): its pages under /sandbox/ and the in-process transport. Never in production.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)

INSTALLED_APPS = [
    # The admin theme (docs/architecture.md); its templates must come before django.contrib.admin's.
    "unfold.apps.BasicAppConfig",
    "wxsite.admin_config.AdminConfig",  # django.contrib.admin with the back office's site (wxsite/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_celery_beat",
    "django_htmx",
    "wxsite",
    "wechat",
    "accounts",
    "followers",
    "media_assets",
    "messaging",  # migration history only; the models live in the apps below
    "messaging.inbound",
    "messaging.autoreply",
    "messaging.kefu",
    "messaging.mass",
    "messaging.templatemsg",
    "menus",
    "qrcodes",
    "sandbox",
    "django_prose_editor",
    "auditlog",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
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
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Who did it: the user of the request on every audit entry written while it runs (accounts.audit).
    "accounts.audit.AuditMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]
if DEBUG:  # whitenoise serves static files in production; runserver does it in the embedded mode
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")
# WeChat's callback (/wechat/<appid>/callback/) is served through these only (wxsite.handlers): it has no session,
# user, language or page, and the rest of the list costs as much as the bare view.
CALLBACK_MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]

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
# true behind pgbouncer in transaction pooling mode (server-side cursors do not survive between transactions).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "wxsite.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "wxsite_cache",
            # Callback signatures are remembered here for the timestamp window; culling starts past this many.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# django-axes first: it refuses a locked-out username+IP before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# zh-hans dates as the WeChat console writes them (wxsite/formats/zh_Hans/formats.py).
FORMAT_MODULE_PATH = ["wxsite.formats"]
TIME_ZONE = _text("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(_text("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Media library files (materials, temporary media, followers' pictures and voices): Django's storage. Local disk
# under MEDIA_ROOT by default; MEDIA_STORAGE=s3 keeps them in an S3-compatible bucket through django-storages
# (requirements/production.txt). Files are always served through the admin, which checks the operator's accounts
# and, for S3, redirects to a signed URL valid MEDIA_S3_URL_SECONDS.
MEDIA_STORAGE = _text("MEDIA_STORAGE", "local")
if MEDIA_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("MEDIA_S3_BUCKET"),
            "endpoint_url": _text("MEDIA_S3_ENDPOINT_URL", "") or None,
            "region_name": _text("MEDIA_S3_REGION", "") or None,
            "access_key": _text("MEDIA_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": _text("MEDIA_S3_SECRET_ACCESS_KEY", "") or None,
            "location": _text("MEDIA_S3_PREFIX", "media"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": int(_text("MEDIA_S3_URL_SECONDS", "300")),
            "file_overwrite": False,
        },
    }
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every view names its model permission per method and is scoped to the accounts the user is granted.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.AccountPermission"],
    "DEFAULT_PARSER_CLASSES": [
        "accounts.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "accounts.api.errors.api_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "accounts.api.negotiation.LanguageNegotiation",
    "DEFAULT_SCHEMA_CLASS": "accounts.api.schema.AccountAutoSchema",
}

# Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set, else a filesystem broker in var/.
CELERY_BROKER_URL = _text("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # The folders are created by `python -m wxsite.var`.
    _broker = var.broker_folders(VAR_DIR)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker["data"]),
        "data_folder_out": str(_broker["data"]),
        "processed_folder": str(_broker["processed"]),
        "control_folder": str(_broker["control"]),
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
    "messaging.callback_signatures_prune": {
        "task": "messaging.inbound.tasks.callback_signatures_prune",
        "schedule": timedelta(minutes=10),
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
    "messaging.template_messages_dispatch_stale": {
        "task": "messaging.template_messages.tasks.template_messages_dispatch_stale",
        "schedule": timedelta(minutes=1),
    },
    "messaging.mass_dispatch_due": {
        "task": "messaging.mass_tasks.mass_dispatch_due",
        "schedule": timedelta(minutes=1),
    },
    "messaging.idempotency_keys_prune": {
        "task": "messaging.mass_tasks.idempotency_keys_prune",
        "schedule": timedelta(days=1),
    },
    "messaging.mass_batches_poll": {
        "task": "messaging.mass_tasks.mass_batches_poll",
        "schedule": timedelta(minutes=5),
    },
    "messaging.inbound_effects_retry_due": {
        "task": "messaging.inbound.tasks.inbound_effects_retry_due",
        "schedule": timedelta(minutes=1),
    },
    # Data cube: the last 7 days of follower figures (one call per API: its span limit), yesterday's included.
    "followers.stats_pull_nightly": {
        "task": "followers.tasks.follower_stats_pull_nightly",
        "schedule": crontab(hour=4, minute=10),
    },
    "media_assets.publish_jobs_poll": {
        "task": "media_assets.tasks.publish_jobs_poll",
        "schedule": timedelta(minutes=5),
    },
    "media_assets.comments_pull_recent": {
        "task": "media_assets.tasks.comments_pull_recent",
        "schedule": timedelta(minutes=15),
    },
    "media_assets.material_pulls_resume_stale": {
        "task": "media_assets.tasks.material_pulls_resume_stale",
        "schedule": timedelta(minutes=5),
    },
}

# The admin theme (django-unfold): the sidebar groups the models by the operator's jobs (wxsite/admin_site.py).
UNFOLD = {
    "SITE_TITLE": "wxsite",
    "SITE_HEADER": "wxsite 公众号后台",
    "SITE_SYMBOL": "chat",
    "SITE_URL": "/admin/",
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": [lambda request: static("wxsite/admin.css")],
    "SIDEBAR": {"show_search": True, "show_all_applications": False, "navigation": "wxsite.admin_site.sidebar_navigation"},
}

# WeChat
# Every account's API base URL unless a superuser points one elsewhere (the sandbox). Whoever answers at
# a base URL receives the account's AppSecret, so it is deployment configuration, never an operator's field.
WECHAT_API_BASE_URL = _text("WECHAT_API_BASE_URL", "https://api.weixin.qq.com/").rstrip("/") + "/"
# The only base URLs an account may use, besides WECHAT_API_BASE_URL and the sandbox (see wechat.gateway).
WECHAT_API_BASE_URL_ALLOWED = env.list("WECHAT_API_BASE_URL_ALLOWED", default=["https://api.weixin.qq.com/"])
# Also allow a sandbox served over HTTP on this machine, http://127.0.0.1:<port>/sandbox/ (benches, demos).
WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX = env.bool("WECHAT_API_BASE_URL_ALLOW_LOCAL_SANDBOX", default=False)
WECHAT_CONNECT_TIMEOUT = env.float("WECHAT_CONNECT_TIMEOUT", default=3.05)
WECHAT_READ_TIMEOUT = env.float("WECHAT_READ_TIMEOUT", default=10.0)
# Seconds of validity below which a stored access_token is refreshed before use (DESIGN §3).
WECHAT_TOKEN_MIN_REMAINING = env.int("WECHAT_TOKEN_MIN_REMAINING", default=300)
# Beat refreshes tokens that expire within this many seconds.
WECHAT_TOKEN_REFRESH_AHEAD = env.int("WECHAT_TOKEN_REFRESH_AHEAD", default=600)
# After a failed token/ticket refresh, no process calls WeChat for it again for this many seconds (doubling
# with each failure in a row, up to the max); readers keep a still-valid value or fail fast with the stored error.
WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS = env.float("WECHAT_TOKEN_REFRESH_BACKOFF_SECONDS", default=5.0)
WECHAT_TOKEN_REFRESH_BACKOFF_MAX_SECONDS = env.float("WECHAT_TOKEN_REFRESH_BACKOFF_MAX_SECONDS", default=60.0)
# An egress proxy for calls to WeChat (e.g. to leave through the whitelisted IP); empty: direct.
WECHAT_HTTPS_PROXY = env("WECHAT_HTTPS_PROXY", default="")
# Seconds a process trusts its last read of an access_token row before reading it again.
WECHAT_TOKEN_LOCAL_CACHE_SECONDS = env.float("WECHAT_TOKEN_LOCAL_CACHE_SECONDS", default=30.0)
# Spread retry waits at random (wechat.retry) so that workers failing together do not call again together.
WECHAT_RETRY_JITTER = env.bool("WECHAT_RETRY_JITTER", default=True)
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
# Days an Idempotency-Key answer of the send APIs is kept (a retry with the key within them gets the first answer).
API_IDEMPOTENCY_KEY_DAYS = env.int("API_IDEMPOTENCY_KEY_DAYS", default=7)
# Parallel user/info/batchget calls of one follower sync (a million followers are 10,000 calls of ~50 ms each).
FOLLOWER_SYNC_WORKERS = env.int("FOLLOWER_SYNC_WORKERS", default=16)
# Mass sends: a 'sending' claim older than this belongs to a dead worker; job results are polled after this.
MASS_SEND_LEASE_SECONDS = env.int("MASS_SEND_LEASE_SECONDS", default=300)
MASS_JOB_POLL_AFTER_MINUTES = env.int("MASS_JOB_POLL_AFTER_MINUTES", default=30)
# A publish job with no PUBLISHJOBFINISH after this many minutes is polled with freepublish/get.
PUBLISH_JOB_POLL_AFTER_MINUTES = env.int("PUBLISH_JOB_POLL_AFTER_MINUTES", default=10)
# Comments of articles published within this many days are pulled by beat.
COMMENTS_PULL_DAYS = env.int("COMMENTS_PULL_DAYS", default=7)
# Template pushes (docs/template_messages.md): default messages per second of a push, openids per batch row,
# parallel sends per batch, rounds of retries of transient failures and the first wait between them (seconds),
# and the silence after which a claimed batch is taken over (seconds).
TEMPLATE_PUSH_RATE_LIMIT = env.int("TEMPLATE_PUSH_RATE_LIMIT", default=500)
TEMPLATE_PUSH_BATCH_SIZE = env.int("TEMPLATE_PUSH_BATCH_SIZE", default=500)
TEMPLATE_PUSH_CONCURRENCY = env.int("TEMPLATE_PUSH_CONCURRENCY", default=16)
TEMPLATE_PUSH_TRANSIENT_ROUNDS = env.int("TEMPLATE_PUSH_TRANSIENT_ROUNDS", default=3)
TEMPLATE_PUSH_RETRY_WAIT = env.float("TEMPLATE_PUSH_RETRY_WAIT", default=1.0)
TEMPLATE_PUSH_STALE_AFTER = timedelta(seconds=env.int("TEMPLATE_PUSH_STALE_AFTER_SECONDS", default=600))

# requests transport adapters by URL prefix; the sandbox mounts an in-process adapter here when enabled.
WECHAT_TRANSPORT_ADAPTERS = {"http://sandbox.inprocess/": "sandbox.transport.InProcessAdapter"} if SANDBOX_ENABLED else {}
# Base URL that points an account at the offline sandbox, served in-process.
SANDBOX_API_BASE_URL = "http://sandbox.inprocess/sandbox/"
# The sandbox's template send limit per minute and the delay of its TEMPLATESENDJOBFINISH push (seconds).
SANDBOX_TEMPLATE_SEND_PER_MINUTE = env.int("SANDBOX_TEMPLATE_SEND_PER_MINUTE", default=600_000)
SANDBOX_TEMPLATE_JOB_FINISH_DELAY = env.int("SANDBOX_TEMPLATE_JOB_FINISH_DELAY", default=2)
# Seconds before the sandbox pushes PUBLISHJOBFINISH for a freepublish/submit.
SANDBOX_PUBLISH_JOB_FINISH_DELAY = env.int("SANDBOX_PUBLISH_JOB_FINISH_DELAY", default=3)
# The sandbox as its own process over HTTP (``manage.py sandbox_serve``, benches): true in that process only.
# Its TEMPLATESENDJOBFINISH pushes then leave from the sandbox process itself, not through our Celery.
SANDBOX_SERVER = env.bool("SANDBOX_SERVER", default=False)
# The stand-in's per-call cost kept small: calls recorded in batches, no daily quota counters, no minute counter
# of template sends. Benches read the calls and deliveries, never the counters.
SANDBOX_FAST = env.bool("SANDBOX_FAST", default=False)
# Fast mode writes its call records in batches of this many, and at least every half second.
SANDBOX_FAST_CALL_BATCH = env.int("SANDBOX_FAST_CALL_BATCH", default=500)
# Milliseconds the sandbox server waits before answering each API call (WeChat's network and work).
SANDBOX_LATENCY_MS = env.int("SANDBOX_LATENCY_MS", default=0)
# Requests the sandbox server runs through Django at once per process (each holds a database connection).
SANDBOX_SERVER_DB_SLOTS = env.int("SANDBOX_SERVER_DB_SLOTS", default=12)

# text: one line per record with the extra fields as key=value; json: one JSON object per record.
LOG_FORMAT = _text("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'text' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "wxsite.log_format.TextFormatter"},
        "json": {"()": "wxsite.log_format.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": _text("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Audit trail (accounts.audit, docs/architecture.md §7): one table for operators' changes and WeChat calls that change state.
AUDITLOG_LOGENTRY_MODEL = "accounts.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_MASK_CALLABLE = "accounts.audit.mask_secret"
# Fixtures loaded with loaddata are not anyone's change.
AUDITLOG_DISABLE_ON_RAW_SAVE = True
# Audit entries are kept this many days (0: forever); pruned by beat.
AUDIT_ENTRY_DAYS = env.int("AUDIT_ENTRY_DAYS", default=0)
CELERY_BEAT_SCHEDULE["accounts.audit_entries_prune"] = {
    "task": "accounts.tasks.audit_entries_prune",
    "schedule": crontab(hour=3, minute=45),
}

# Login protection (django-axes): after AXES_FAILURE_LIMIT failed logins of one username from one IP, that pair is
# locked out for AXES_COOLOFF_MINUTES. The IP is REMOTE_ADDR, or behind the TLS proxy (SECURE_PROXY_SSL_HEADER) the
# address the proxy appended to X-Forwarded-For. A successful login clears the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.audit.client_ip"

# OpenAPI (drf-spectacular): the schema at /api/schema/, Swagger UI from drf-spectacular-sidecar at /api/docs/.
SPECTACULAR_SETTINGS = {
    "TITLE": "wxsite API",
    "DESCRIPTION": "REST API of the wxsite back office for WeChat Official Accounts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
