"""Settings, all from the environment (see the README's configuration table).

Without DATABASE_URL / REDIS_URL the CSMS runs embedded: SQLite, an in-memory
channel layer, eager Celery and periodic jobs driven inside the server process.
With them it runs in production mode: PostgreSQL, channels-redis, Celery on Redis.
"""

import os
import socket
import tomllib
from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not DATABASE_URL and not REDIS_URL
DATA_DIR = Path(env.str("CSMS_DATA_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("CSMS_DEBUG", default=False)


def _secret_key() -> str:
    key = env.str("CSMS_SECRET_KEY", default="") or env.str("SECRET_KEY", default="")
    if key:
        return key
    if not EMBEDDED:
        raise environ.ImproperlyConfigured(
            "CSMS_SECRET_KEY must be set when DATABASE_URL or REDIS_URL is set."
        )
    # Embedded run: a key generated once and kept beside the SQLite file, so
    # sessions and JWTs survive restarts without any setup.
    from django.core.management.utils import get_random_secret_key

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("CSMS_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSMS_CSRF_TRUSTED_ORIGINS", default=[])
NODE_NAME = env.str("CSMS_NODE_NAME", default=f"{socket.gethostname()}-{os.getpid()}")


def _project_version() -> str:
    try:
        with open(BASE_DIR / "pyproject.toml", "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


# Reported by /health/; a deployment may set its build id.
VERSION = env.str("CSMS_VERSION", default=_project_version())

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    "auditlog",
    "channels",
    "apps.organizations",
    "apps.chargepoints",
    "apps.ocpp",
    "apps.events",
    "apps.operations",
    "apps.transactions",
    "apps.authlists",
    "apps.billing",
]

MIDDLEWARE = [
    # Metrics outermost, so a 413 from the body limit is counted and timed too.
    "apps.operations.middleware.HttpMetricsMiddleware",
    "apps.operations.middleware.RequestIdMiddleware",
    "apps.operations.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
]

ROOT_URLCONF = "csms.urls"
ASGI_APPLICATION = "csms.asgi.application"

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

# --- Database -----------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    # Under ASGI each request runs in a thread of its own: a connection kept
    # per (dead) thread ran PostgreSQL out of them, and a new connection per
    # request cost PostgreSQL more CPU than the request (commands at 50/s:
    # p50 14 s). So a pool (psycopg_pool): threads borrow a connection and
    # give it back when Django closes it, at the end of each request.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool requires it
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    _POOL_SIZE = env.int("CSMS_DB_POOL_SIZE", default=20)
    if _POOL_SIZE:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": _POOL_SIZE,
            "timeout": env.float("CSMS_DB_POOL_TIMEOUT", default=10.0),
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("CSMS_SQLITE_PATH", default=str(DATA_DIR / "csms.sqlite3")),
            "OPTIONS": {
                # WAL lets the API read while the OCPP edge writes; IMMEDIATE
                # avoids "database is locked" on lock upgrades.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory: end-to-end tests run the server in another
            # process, which must see the test database. One per test run, so
            # that runs in parallel do not share it.
            "TEST": {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Channels, Celery ---------------------------------------------------------
def _next_redis_db(url: str) -> str:
    """The cache gets the Redis database after the channel layer's, so that
    clearing the cache never drops channel-layer messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{db + 1}"))


if REDIS_URL:
    # Probe an idle Redis connection after 10 s, every 5 s, 3 times.
    _KEEPALIVE = {
        getattr(socket, name): value
        for name, value in (
            ("TCP_KEEPIDLE", 10),
            ("TCP_KEEPINTVL", 5),
            ("TCP_KEEPCNT", 3),
        )
        if hasattr(socket, name)
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "csms.channel_layer.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults socket_timeout to 5 s, which breaks the
                # layer's blocking reads (channels_redis issue 422). Any
                # timeout makes redis-py send through asyncio.wait_for, which
                # on Python 3.11 can swallow a cancellation: a cancelled
                # receive then loops forever and the loop never closes. So
                # none; TCP keepalive finds a dead Redis instead (~25 s).
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": None,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "socket_keepalive_options": _KEEPALIVE,
                    }
                ],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "csms.cache.RedisCache",  # one client per pool, not per call
            "LOCATION": env.str("CSMS_CACHE_URL", default=_next_redis_db(REDIS_URL)),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = EMBEDDED
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "UTC"
OFFLINE_CHECK_INTERVAL = env.int("CSMS_OFFLINE_CHECK_INTERVAL", default=60)
JOURNAL_PURGE_INTERVAL = env.int("CSMS_JOURNAL_PURGE_INTERVAL", default=3600)
# One schedule for both runs: Celery beat in production, the in-process
# scheduler (apps.operations.scheduler) in the embedded run.
CELERY_BEAT_SCHEDULE = {
    "mark-stale-stations-offline": {
        "task": "apps.chargepoints.tasks.mark_stale_offline",
        "schedule": timedelta(seconds=OFFLINE_CHECK_INTERVAL),
    },
    "purge-message-journal": {
        "task": "apps.ocpp.tasks.purge_journal",
        "schedule": timedelta(seconds=JOURNAL_PURGE_INTERVAL),
    },
}
RUN_PERIODIC_IN_PROCESS = env.bool("CSMS_RUN_PERIODIC_IN_PROCESS", default=EMBEDDED)

# --- Auth, API ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

API_RATE_LIMIT = env.str("CSMS_API_RATE_LIMIT", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "apps.organizations.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "apps.organizations.permissions.HasOrganizationRole"
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "apps.operations.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.operations.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["apps.operations.api.ApiRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_RATE_LIMIT},
    # The client address is the ASGI peer; the server resolves trusted proxies.
    "NUM_PROXIES": 0,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=env.int("CSMS_JWT_ACCESS_MINUTES", default=30)
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        days=env.int("CSMS_JWT_REFRESH_DAYS", default=7)
    ),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CSMS API",
    "DESCRIPTION": "REST API of the OCPP Central System.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- HTTP ---------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("CSMS_MAX_BODY_BYTES", default=1024 * 1024)
CORS_ALLOWED_ORIGINS_RAW = env.list("CSMS_CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_ALL_ORIGINS = "*" in CORS_ALLOWED_ORIGINS_RAW
CORS_ALLOWED_ORIGINS = [o for o in CORS_ALLOWED_ORIGINS_RAW if o != "*"]
CORS_URLS_REGEX = r"^/(api|health)/.*$"

# --- OCPP ---------------------------------------------------------------------
OCPP_PATH_PREFIX = env.str("CSMS_OCPP_PATH_PREFIX", default="ocpp").strip("/")
OCPP_HEARTBEAT_INTERVAL = env.int("CSMS_HEARTBEAT_INTERVAL", default=300)
OCPP_OFFLINE_AFTER_HEARTBEATS = env.float("CSMS_OFFLINE_AFTER_HEARTBEATS", default=2.0)
OCPP_PENDING_RETRY_INTERVAL = env.int("CSMS_PENDING_RETRY_INTERVAL", default=60)
OCPP_MAX_FRAME_BYTES = env.int("CSMS_OCPP_MAX_FRAME_BYTES", default=256 * 1024)
OCPP_AUTH_FAILURE_LIMIT = env.int("CSMS_AUTH_FAILURE_LIMIT", default=10)
OCPP_AUTH_FAILURE_WINDOW = env.int("CSMS_AUTH_FAILURE_WINDOW", default=300)
OCPP_JOURNAL_RETENTION_DAYS = env.int("CSMS_JOURNAL_RETENTION_DAYS", default=30)
OCPP_JOURNAL_FLUSH_MS = env.int("CSMS_JOURNAL_FLUSH_MS", default=200)
WS_PING_INTERVAL = env.float("CSMS_WS_PING_INTERVAL", default=30.0)
WS_PING_TIMEOUT = env.float("CSMS_WS_PING_TIMEOUT", default=30.0)

# --- Server (manage.py serve) -------------------------------------------------
SERVER = env.str("CSMS_SERVER", default="daphne" if EMBEDDED else "uvicorn")
SERVER_HOST = env.str("CSMS_HOST", default="127.0.0.1")
SERVER_PORT = env.int("CSMS_PORT", default=8000)
SERVER_BACKLOG = env.int("CSMS_BACKLOG", default=4096)
SERVER_WORKERS = env.int("CSMS_WORKERS", default=1)

# --- Operations ---------------------------------------------------------------
HEALTH_CHECK_TIMEOUT = env.float("CSMS_HEALTH_TIMEOUT", default=2.0)
METRICS_TOKEN = env.str("CSMS_METRICS_TOKEN", default="")
# gc.freeze() after start-up and then every this many seconds; 0 = start-up only.
GC_FREEZE_INTERVAL = env.float("CSMS_GC_FREEZE_INTERVAL", default=60.0)
# ...and as soon as this many new connections have come and stopped coming
# (apps.operations.gctracker.FreezeSchedule); 0 = only by the interval.
GC_FREEZE_AFTER_CONNECTIONS = env.int("CSMS_GC_FREEZE_AFTER_CONNECTIONS", default=200)
# Allocations between young-generation collections (Python's default: 700).
# Each young collection stalls the process in proportion: at 50,000, 55-80 ms
# every ~4 s with 50 API commands/s beside 1,000 msg/s (each request leaves
# ~120 objects of cyclic garbage); at 10,000, 4-15 ms (bench/README.md).
GC_THRESHOLD_YOUNG = env.int("CSMS_GC_THRESHOLD_YOUNG", default=10_000)
# Young collections between collections of the middle generation (Python: 10).
# Those collections are the long stalls (70-200 ms with thousands of
# stations). The freeze schedule collects the middle generation anyway (every
# GC_FREEZE_INTERVAL s and after a wave of connections); this many young ones
# are only the backstop. (At 3, reconnect storms of 10,000 stations collected
# the old generations so often that 1,700 of them timed out.)
GC_THRESHOLD_MIDDLE = env.int("CSMS_GC_THRESHOLD_MIDDLE", default=100)
# How long a thread may hold the GIL while another waits (Python's default: 5).
GIL_SWITCH_INTERVAL_MS = env.float("CSMS_GIL_SWITCH_INTERVAL_MS", default=1.0)
# manage.py bootstrap: the admin superuser (else "admin", password printed once).
ADMIN_USERNAME = env.str("CSMS_ADMIN_USERNAME", default="")
ADMIN_PASSWORD = env.str("CSMS_ADMIN_PASSWORD", default="")

# --- i18n, static -------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when missing
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging ------------------------------------------------------------------
LOG_FORMAT = env.str("CSMS_LOG_FORMAT", default="text")
LOG_LEVEL = env.str("CSMS_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "apps.operations.logging.RequestIdFilter"}},
    "formatters": {
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT if LOG_FORMAT in ("text", "json") else "text",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
        "ocpp": {"level": "WARNING"},
    },
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"

# --- OCPP handshake -----------------------------------------------------------
OCPP_DEFAULT_ORGANIZATION = env.str("CSMS_DEFAULT_ORGANIZATION", default="default")
OCPP_TRUST_FORWARDED_PROTO = env.bool("CSMS_TRUST_FORWARDED_PROTO", default=False)
OCPP_VALIDATE_RESPONSES = env.bool("CSMS_OCPP_VALIDATE_RESPONSES", default=True)
OCPP_COMMAND_TIMEOUT = env.float("CSMS_COMMAND_TIMEOUT", default=30.0)

# --- Configuration, local lists, DataTransfer (apps.chargepoints, apps.authlists) --
# Seconds to wait for the NotifyReport parts of a report a request asked for.
OCPP_REPORT_WAIT = env.float("CSMS_REPORT_WAIT", default=30.0)
# Seconds after an accepted boot before the local list is synced (auto-sync).
LOCAL_LIST_SYNC_DELAY = env.float("CSMS_LOCAL_LIST_SYNC_DELAY", default=1.0)
# Modules whose @vendor_handler functions answer incoming DataTransfer.
OCPP_DATA_TRANSFER_HANDLERS = env.list(
    "CSMS_DATA_TRANSFER_HANDLERS", default=["apps.ocpp.datatransfer_builtin"]
)
# Our own vendorId for the built-in DataTransfer messages (Echo).
OCPP_DATA_TRANSFER_VENDOR_ID = env.str("CSMS_DATA_TRANSFER_VENDOR_ID", default="csms")
# Group-commit workers on PostgreSQL (each its own connection): while one
# waits for a commit, the next batch runs. SQLite always has one.
OCPP_GROUP_COMMIT_THREADS = env.int("CSMS_GROUP_COMMIT_THREADS", default=2)
# A batch smaller than GATHER_BATCH waits up to GATHER_MS (since its first
# message) for more: a batch costs ~1.7 ms of CPU whatever it holds, and at a
# few hundred messages per second workers otherwise commit one or two at a
# time. 0 turns it off.
OCPP_GROUP_COMMIT_GATHER_MS = env.float("CSMS_GROUP_COMMIT_GATHER_MS", default=10.0)
OCPP_GROUP_COMMIT_GATHER_BATCH = env.int("CSMS_GROUP_COMMIT_GATHER_BATCH", default=8)
# How often last-seen stamps are written (one statement for all stations).
OCPP_LAST_SEEN_WRITE_S = env.float("CSMS_LAST_SEEN_WRITE_S", default=5.0)
# A station's stamp is written again once the one in the database is this old
# (offline detection allows for it).
OCPP_LAST_SEEN_RESOLUTION_S = env.float("CSMS_LAST_SEEN_RESOLUTION_S", default=30.0)
