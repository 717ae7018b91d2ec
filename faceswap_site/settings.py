"""Settings, all from the environment.

Defaults boot with no external services: SQLite (WAL), the django-q2 ORM broker and
a local media folder under ./var. Bad values fail loudly at start-up.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

# Before anything imports cv2: OpenCV reads its pixel ceiling once, at import.
import faceswap_site.opencv_guard  # noqa: E402, F401, I001
from faceswap_site.storage_url import default_storage_backend

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be >= {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def local_secret_key(folder: Path) -> str:
    """This installation's own random key, made at first start and kept in
    ``folder``/secret_key (mode 0600): never a constant anyone can read in the code."""
    path = folder / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 50:
            raise ImproperlyConfigured(
                f"{path} holds no usable key: delete it to make a new one"
            ) from None
        return key
    key = secrets.token_urlsafe(64)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Whether the key came from the environment; without it, checks warn (faceswap_site.checks).
SECRET_KEY_CONFIGURED = bool(SECRET_KEY)
if not SECRET_KEY:
    if not env_bool("ALLOW_INSECURE_SECRET_KEY", True):
        raise ImproperlyConfigured("SECRET_KEY is required")
    SECRET_KEY = local_secret_key(VAR_DIR)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_ratelimit",
    "accounts",
    "swaps",
]

MIDDLEWARE = [
    # Outermost: counts every answer, those of the middleware below included.
    "faceswap_site.metrics.MetricsMiddleware",
    "faceswap_site.middleware.RequestIdMiddleware",
    # Outside every other middleware: the errors they answer with (a foreign Host
    # header, a CSRF failure) are turned into the JSON envelope on /api/ too.
    "faceswap_site.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "faceswap_site.middleware.PermissionsPolicyMiddleware",
]

ROOT_URLCONF = "faceswap_site.urls"
WSGI_APPLICATION = "faceswap_site.wsgi.application"

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
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the writer proceed together; IMMEDIATE takes the write lock at
    # BEGIN so concurrent writers queue on busy_timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Connections are kept as on PostgreSQL (60 s): reopening the file (connect, PRAGMAs,
    # a WAL checkpoint at close) cost ~3 ms of CPU per API request (benchmarks/web_cpu.py)
    # and half the CPU of django-q2's ORM pusher, which calls close_old_connections()
    # before each 0.05 s poll (benchmarks/job_cpu.py). Each thread has its own connection.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "swaps:new"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Inputs, previews and results: MEDIA_ROOT by default; with STORAGE_URL=s3://BUCKET?...
# an S3-compatible bucket every machine shares (faceswap_site.storage_url).
STORAGE_URL = env_str("STORAGE_URL", "")
STORAGES = {
    "default": default_storage_backend(STORAGE_URL),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Media is never served directly: results go out only through signed, expiring URLs.

# --- Images and uploads -------------------------------------------------------------
MAX_IMAGE_BYTES = env_int("MAX_IMAGE_BYTES", 15 * 1024 * 1024, minimum=1024)
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 40 * 1024 * 1024, minimum=1024)
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 100_000_000, minimum=10_000)
# Web processes decode images themselves only on the synchronous face routes; decodes
# over BIG_DECODE_PIXELS take one of MAX_BIG_DECODES slots per process, or the request
# is a 503 server_busy (a 9000x9000 PNG is 236 KB on the wire, 243 MB decoded).
BIG_DECODE_PIXELS = env_int("BIG_DECODE_PIXELS", 16_000_000, minimum=1)
MAX_BIG_DECODES = env_int("MAX_BIG_DECODES", 1, minimum=1)
BIG_DECODE_WAIT_S = 1.0  # how long a request waits for a slot before the 503
# Django's cap ignores file parts; ours (faceswap_site.middleware, and the web server
# from Content-Length) counts the whole body.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
URL_FETCH_TIMEOUT_S = env_int("URL_FETCH_TIMEOUT_S", 10, minimum=1)
URL_FETCH_MAX_REDIRECTS = 3
RESULT_URL_TTL_S = env_int("RESULT_URL_TTL_S", 24 * 3600, minimum=60)
OUTPUT_NOTE = env_str("OUTPUT_NOTE", "Altered by FaceSwap: this image contains an AI face swap.")
# C2PA Content Credentials on every result (swaps.content_credentials), signed offline.
# C2PA_CERT (PEM chain, signing certificate first) and C2PA_KEY (its PEM key) together, or
# neither: then the service makes its own CA and signing certificate in VAR_DIR/c2pa.
C2PA_ENABLED = env_bool("C2PA_ENABLED", True)
C2PA_CERT = env_str("C2PA_CERT", "")
C2PA_KEY = env_str("C2PA_KEY", "")
if bool(C2PA_CERT) != bool(C2PA_KEY):
    raise ImproperlyConfigured("C2PA_CERT and C2PA_KEY go together: set both or neither")
for _name, _path in (("C2PA_CERT", C2PA_CERT), ("C2PA_KEY", C2PA_KEY)):
    if _path and not Path(_path).is_file():
        raise ImproperlyConfigured(f"{_name} names no readable file: {_path!r}")

# --- Worker (django-q2) ---------------------------------------------------------------
JOB_TIMEOUT_S = env_int("JOB_TIMEOUT_S", 120, minimum=5)
# With REDIS_URL, django-q2's broker is Redis: a worker blocks on the list and takes a job
# the moment it is pushed. Without it, the embedded ORM broker: each cluster's pusher asks
# the database for a task every ORM_POLL_S while the queue is empty. One cheap indexed
# query per 0.05 s per cluster when idle (20 a second); a job waits 25 ms for it on average,
# which `Prefer: wait` clients see in their latency.
ORM_POLL_S = 0.05
REDIS_URL = env_str("REDIS_URL", "")
Q_BROKER = {"redis": REDIS_URL} if REDIS_URL else {"orm": "default", "poll": ORM_POLL_S}
Q_CLUSTER = {
    "name": "faceswap",
    **Q_BROKER,
    "workers": env_int("WORKER_PROCESSES", 1, minimum=1),
    "timeout": JOB_TIMEOUT_S,
    # retry must exceed timeout, or a slow job is handed to a second worker while running.
    "retry": JOB_TIMEOUT_S * 2,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "sync": env_bool("Q_SYNC", False),
}
# Batch work yields the CPU to web requests on a shared host: `manage.py worker` and all
# it starts run at niceness WORKER_NICE (0-19; 0 leaves it as started), and each worker
# process gives OpenCV WORKER_CV_THREADS threads (0: cores / workers, at least 1), so two
# workers on two cores do not run four busy threads (swaps.worker_process).
WORKER_NICE = env_int("WORKER_NICE", 10, minimum=0)
if WORKER_NICE > 19:
    raise ImproperlyConfigured(f"WORKER_NICE must be 0..19, got {WORKER_NICE}")
WORKER_CV_THREADS = env_int("WORKER_CV_THREADS", 0, minimum=0) or max(
    1, (os.cpu_count() or 1) // Q_CLUSTER["workers"]
)
# A job still 'processing' this long after its claim is treated as crashed.
JOB_STALE_AFTER_S = JOB_TIMEOUT_S + 60

# --- Webhooks ---------------------------------------------------------------------------
# One attempt (DNS, connect, TLS, POST, answer) must end well within the worker timeout.
WEBHOOK_TIMEOUT_S = env_int("WEBHOOK_TIMEOUT_S", 10, minimum=1)
if WEBHOOK_TIMEOUT_S >= JOB_TIMEOUT_S:
    raise ImproperlyConfigured("WEBHOOK_TIMEOUT_S must be below JOB_TIMEOUT_S")
# Workers have no request to take a host from: webhook bodies link results under this origin.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# --- Quotas, credits, idempotency ---------------------------------------------------------
# With REDIS_URL, rate windows and django-ratelimit's counters live in Redis (atomic INCR);
# without it, in the database, counted with conditional UPDATEs.
IDEMPOTENCY_TTL_S = env_int("IDEMPOTENCY_TTL_S", 24 * 3600, minimum=24 * 3600)
if REDIS_URL:
    _REDIS = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    CACHES = {"default": _REDIS, "counters": _REDIS}
else:
    CACHES = {
        # Everything cached that is not a counter (django-q2's cluster stats for qinfo
        # and qmonitor among them), shared by every process through the database.
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "faceswap_cache",
        },
        # Django's database cache is not atomic (incr = read, then write), so concurrent
        # logins could pass a limit; this backend increments with one UPDATE ... RETURNING.
        # It holds integers only.
        "counters": {"BACKEND": "accounts.counter_cache.AtomicDatabaseCounterCache"},
    }
RATELIMIT_USE_CACHE = "counters"
RATELIMIT_VIEW = "accounts.page_limits.ratelimited"
LOGIN_RATE = env_str("LOGIN_RATE", "10/m")
SIGNUP_RATE = env_str("SIGNUP_RATE", "5/h")
UPLOAD_RATE = env_str("UPLOAD_RATE", "30/m")
# The upload page's face finder (free, synchronous): a few photos per swap, per client IP.
PAGE_DETECT_RATE = env_str("PAGE_DETECT_RATE", "60/m")
# django-ratelimit lists only memcached and django-redis as known-good; Django's own
# RedisCache and our counter backend are atomic too (see above).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "faceswap_site.parsers.BoundedJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "faceswap_site.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "faceswap_site.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "FaceSwap API",
    # Three `status` fields with different values: each enum keeps a stable, readable name.
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "swaps.models.JobStatus",
        "ModelsLabStatusEnum": ["success", "processing", "error"],
        "UseapiStatusEnum": ["started", "completed", "failed"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "swaps.api.schema.document_unsupported_media_types",
    ],
    "DESCRIPTION": (
        "Swap faces between photos.\n\n"
        "**Authentication**: `X-Api-Key: KEY` or `Authorization: Bearer KEY`.\n\n"
        '**Errors**: every error is `{"success": false, "error": {"code", '
        '"message", "details"}, "request_id"}` with a stable code.\n\n'
        "**Rate limits**: every authenticated response carries `X-RateLimit-Limit`, "
        "`X-RateLimit-Remaining` and `X-RateLimit-Reset` (UTC epoch seconds) for the hourly "
        "window of requests that create work; a 429 adds `Retry-After`.\n\n"
        "**Credits**: a job costs `cost` credits when accepted, refunded once if it fails; "
        "402 when the balance is too low.\n\n"
        "**Busy**: the synchronous face routes answer 503 `server_busy` with `Retry-After` "
        "while the server decodes other very large images.\n\n"
        "**Lists**: `limit` 1..100 (default 20), `offset` a whole number.\n\n"
        "**Idempotency**: send `Idempotency-Key` on POSTs to repeat them safely (24 h)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# --- Metrics ----------------------------------------------------------------------------
# /metrics answers only with `Authorization: Bearer METRICS_TOKEN`; unset, it is a 404 and
# nothing is counted. Request counts of a machine's web processes meet in one folder
# (prometheus_client's multiprocess mode), set here before prometheus_client is imported.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN:
    _metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
    _metrics_dir.mkdir(parents=True, exist_ok=True)

# --- Logging: never image bytes or keys --------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "faceswap_site.redact.RedactingFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Anyone can send a foreign Host header; a traceback for each would flood the log.
    # The access log still shows each such request and its 400.
    "loggers": {"django.security.DisallowedHost": {"handlers": [], "propagate": False}},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS in production (docs/production.env): the TLS proxy in front says the scheme in
# X-Forwarded-Proto; trust it only when BEHIND_TLS_PROXY (else any client could claim it).
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Probes and the scraper talk plain HTTP to each machine, inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # result links carry their token in the path

# Content-Security-Policy (django-csp): every script, style and image from this site, no
# inline script or style; data: and blob: images for the upload page's previews. All
# front-end code is in static/ (no CDN): the API docs are Swagger UI from the sidecar.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:", "blob:"],
        "connect-src": [CSP_SELF],
        "font-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
# Features no page uses, off for every page (faceswap_site.middleware).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
