"""Django settings for EVA API, read from environment variables.

Every variable is documented in `.env.example`. `EVA_ENV=production` turns on
the start-up checks in `_check_production` below.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from evaapi import __version__
from evaapi.env import env_bool, env_float, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

EVA_ENV = env_str("EVA_ENV", "development")
if EVA_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"EVA_ENV must be development, test or production, got {EVA_ENV!r}")
VERSION = __version__

_DEFAULT_SECRET_KEY = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEFAULT_SECRET_KEY)
DEBUG = env_bool("DEBUG", EVA_ENV == "development")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if EVA_ENV == "production" else "127.0.0.1,localhost,testserver")

VAR_DIR = Path(env_str("EVA_VAR_DIR", str(BASE_DIR / "var"))).resolve()


def _check_production() -> None:
    problems = []
    if DEBUG:
        problems.append("DEBUG must be off")
    if SECRET_KEY == _DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a random value of at least 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name the hosts this server answers for")
    for name in ("API_KEY_PEPPER", "JWT_SECRET_KEY", "WEBHOOK_SECRETS_KEY"):
        value = globals()[name]
        if len(value) < 32 or value == SECRET_KEY:
            problems.append(f"{name} must be set to a random value of at least 32 characters, not SECRET_KEY")
    if problems:
        raise ImproperlyConfigured("EVA_ENV=production refuses to start: " + "; ".join(problems))


# TLS ends at the load balancer or ingress. In production, admin cookies go over HTTPS only and
# browsers are told to use HTTPS for this host (HSTS; 0 turns it off).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = EVA_ENV == "production"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if EVA_ENV == "production" else 0)
# Behind a proxy that ends TLS: the header it sets to "https" on requests it received over TLS
# (e.g. X-Forwarded-Proto), so Django knows them as secure (HSTS, secure cookies). Set it only
# when the proxy always sets or strips that header; empty: requests are secure only if TLS reached us.
_PROXY_TLS_HEADER = env_str("SECURE_PROXY_SSL_HEADER")
if _PROXY_TLS_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_TLS_HEADER.upper().replace("-", "_"), "https")
# Origins the admin's login form may be posted from, e.g. https://eva.example.com
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "evaapi.apps.EvaAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "evaapi",
    "evaapi.auth",
    "evaapi.events",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "graphene_django_graphiql_static",
    "django_rq",
    "channels",
    "spaces",
    "documents",
    "webhooks",
    "subscriptions_app",
]

# Every request's path. All of it runs natively async, so an API request crosses from the event
# loop to a thread once, for its (sync) view; see docs/development.md, "Sync and async".
MIDDLEWARE = [
    # Outermost, so error and 429 responses carry CORS headers too; it answers preflights itself,
    # before anything counts them against a rate limit.
    "corsheaders.middleware.CorsMiddleware",
    "evaapi.http.middleware.RequestIdMiddleware",
    "evaapi.http.middleware.RateLimitHeadersMiddleware",
    "evaapi.http.middleware.ErrorShapeMiddleware",
    "evaapi.http.middleware.SecurityMiddleware",
    # The admin's and the API docs' assets (uvicorn serves no files), under STATIC_URL only.
    "evaapi.http.middleware.StaticFilesMiddleware",
    # ADMIN_MIDDLEWARE, under ADMIN_URL only.
    "evaapi.http.middleware.AdminMiddleware",
]
# The browser machinery the admin needs and the API does not (it authenticates with keys and
# tokens): sessions, CSRF, users, messages, framing. Runs for requests under ADMIN_URL only.
ADMIN_URL = "admin/"
ADMIN_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The admin's own checks look for its middleware in MIDDLEWARE; evaapi.checks looks in
# ADMIN_MIDDLEWARE instead.
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
# On every HTML page (the admin, the API docs): scripts and styles from this server only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURE_REFERRER_POLICY = "same-origin"

ROOT_URLCONF = "evaapi.urls"
ASGI_APPLICATION = "evaapi.asgi.application"
# API paths have no trailing slash; redirecting a POST would lose its body.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def _database_from_url(url: str) -> dict:
    """Django's own tables only (users, sessions, admin log): sqlite:///path or postgres://..."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path is relative to the project; sqlite:////abs/path is absolute.
        name = Path(unquote(parsed.path)[1:])
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / name)}
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme must be sqlite or postgres, got {parsed.scheme!r}")


DATABASES = {"default": _database_from_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'django.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Served straight from the installed apps: no collectstatic step in any deployment.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))).resolve()

# --- Documents' files (documents/storage.py) ----------------------------------------------------
# filesystem (under MEDIA_ROOT; the default) | azure (Blob Storage: a connection string, or an
# account name with Entra ID through DefaultAzureCredential).
EVA_BLOB_BACKEND = env_str("EVA_BLOB_BACKEND", "filesystem")
AZURE_STORAGE_CONNECTION_STRING = env_str("AZURE_STORAGE_CONNECTION_STRING")
AZURE_STORAGE_ACCOUNT_NAME = env_str("AZURE_STORAGE_ACCOUNT_NAME")
AZURE_STORAGE_CONTAINER = env_str("AZURE_STORAGE_CONTAINER", "documents")
# Lifetime of the signed URL GET /documents/{id}/content redirects to (Azure only), in seconds.
DOCUMENT_DOWNLOAD_URL_SECONDS = env_int("DOCUMENT_DOWNLOAD_URL_SECONDS", 300)
EVA_MAX_UPLOAD_MB = env_int("EVA_MAX_UPLOAD_MB", 50)
# A document `processing` for longer than this (its worker was killed) is tried again, up to 3
# attempts in all, then failed. Keep it above the documents queue's job timeout.
DOCUMENT_PROCESSING_TIMEOUT_SECONDS = env_int("DOCUMENT_PROCESSING_TIMEOUT_SECONDS", 600)
if EVA_BLOB_BACKEND not in {"filesystem", "azure"}:
    raise ImproperlyConfigured(f"EVA_BLOB_BACKEND must be filesystem or azure, got {EVA_BLOB_BACKEND!r}")


def _azure_documents_storage() -> dict:
    options = {"azure_container": AZURE_STORAGE_CONTAINER, "overwrite_files": False}
    if AZURE_STORAGE_CONNECTION_STRING:
        return {**options, "connection_string": AZURE_STORAGE_CONNECTION_STRING}
    if not AZURE_STORAGE_ACCOUNT_NAME:
        raise ImproperlyConfigured("EVA_BLOB_BACKEND=azure needs AZURE_STORAGE_CONNECTION_STRING or "
                                   "AZURE_STORAGE_ACCOUNT_NAME")
    from azure.identity import DefaultAzureCredential

    return {**options, "account_name": AZURE_STORAGE_ACCOUNT_NAME, "token_credential": DefaultAzureCredential()}


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "documents": (
        {"BACKEND": "storages.backends.azure_storage.AzureStorage", "OPTIONS": _azure_documents_storage()}
        if EVA_BLOB_BACKEND == "azure"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage",
              "OPTIONS": {"location": str(MEDIA_ROOT / "documents")}}
    ),
}

# --- Document store (domain data; see evaapi/store) -------------------------------------------
EVA_STORE_BACKEND = env_str("EVA_STORE_BACKEND", "sqlite")
if EVA_STORE_BACKEND not in {"sqlite", "cosmos"}:
    raise ImproperlyConfigured(f"EVA_STORE_BACKEND must be sqlite or cosmos, got {EVA_STORE_BACKEND!r}")
EVA_SQLITE_PATH = Path(env_str("EVA_SQLITE_PATH", str(VAR_DIR / "store.sqlite3"))).resolve()
COSMOS_ENDPOINT = env_str("COSMOS_ENDPOINT")
# Empty: authenticate with Entra ID (azure-identity's DefaultAzureCredential).
COSMOS_KEY = env_str("COSMOS_KEY")
COSMOS_DATABASE = env_str("COSMOS_DATABASE", "evaapi")
if EVA_STORE_BACKEND == "cosmos" and not COSMOS_ENDPOINT:
    raise ImproperlyConfigured("EVA_STORE_BACKEND=cosmos needs COSMOS_ENDPOINT")

# --- Redis: rq queues and the Channels layer -------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300}
    for name in ("default", "documents")
}
# Every job counts its store calls and logs them with its id (evaapi/jobs.py).
# Jobs are queued at once: what they work on is in the document store, which Django's database
# transactions do not cover (django-rq would otherwise wait for a commit that may never come).
RQ = {"JOB_CLASS": "evaapi.jobs.CountedJob", "COMMIT_MODE": "auto"}
# The Channels layer (subscriptions' events) over Redis: "pubsub" publishes each group message
# once, and every server process hands it to its own members; "core" copies it into each
# member's channel. bench/subscriptions.py measures both (bench/README.md says why the default).
CHANNEL_LAYER = env_str("CHANNEL_LAYER", "core")
if CHANNEL_LAYER not in ("core", "pubsub"):
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be core or pubsub, got {CHANNEL_LAYER!r}")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": {"core": "channels_redis.core.RedisChannelLayer",
                    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer"}[CHANNEL_LAYER],
        # A socket timeout above the core layer's 5 s blocking read (BZPOPMIN): at redis-py's
        # default of 5 s the read of an idle socket's channel times out and kills its consumer.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5}]},
    }
}

# --- Authentication (evaapi/auth) -----------------------------------------------------------
# Keys of their own, apart from SECRET_KEY, so each can be rotated alone (docs/operations.md).
# Development and tests derive them from SECRET_KEY; production refuses to start without them.
_DERIVED = "" if EVA_ENV == "production" else SECRET_KEY
# Server-side pepper of the keyed hash API keys are stored as.
API_KEY_PEPPER = env_str("API_KEY_PEPPER", _DERIVED and "api-key-pepper:" + _DERIVED)
# Earlier peppers, still accepted during a rotation; a key moves to the current one on its next use.
API_KEY_PEPPER_PREVIOUS = env_list("API_KEY_PEPPER_PREVIOUS")
# Entra ID: tokens are accepted only when ENTRA_AUDIENCE is set.
ENTRA_AUTHORITY = env_str("ENTRA_AUTHORITY", "https://login.microsoftonline.com/organizations/v2.0")
ENTRA_JWKS_URL = env_str("ENTRA_JWKS_URL")
ENTRA_AUDIENCE = env_str("ENTRA_AUDIENCE")
ENTRA_ALLOWED_ISSUERS = env_list("ENTRA_ALLOWED_ISSUERS")
ENTRA_ALLOWED_TENANT_IDS = env_list("ENTRA_ALLOWED_TENANT_IDS")
ENTRA_LEEWAY_SECONDS = env_int("ENTRA_LEEWAY_SECONDS", 60)
# Local login (Django users of a tenant) issues short-lived HS256 tokens.
LOCAL_LOGIN_ENABLED = env_bool("LOCAL_LOGIN_ENABLED", EVA_ENV != "production")
# Signs local login tokens; changing it ends every token issued (they last JWT_ACCESS_TOKEN_MINUTES).
JWT_SECRET_KEY = env_str("JWT_SECRET_KEY", _DERIVED and "jwt-secret-key:" + _DERIVED)
JWT_ACCESS_TOKEN_MINUTES = env_int("JWT_ACCESS_TOKEN_MINUTES", 15)
# Failed logins allowed per (username, client IP), and per username from all addresses together.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_MAX_FAILURES_PER_USERNAME = env_int("LOGIN_MAX_FAILURES_PER_USERNAME", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# Rate limits per tenant tier: <tier>=<requests per minute>/<burst>, or <tier>=unlimited.
RATE_LIMIT_TIERS = env_str("RATE_LIMIT_TIERS", "free=60/10,basic=600/50,pro=6000/200,enterprise=unlimited")
# Per client IP, for requests without valid credentials and requests refused (401/403):
# <requests per minute>/<burst>, or unlimited.
RATE_LIMIT_UNAUTHENTICATED = env_str("RATE_LIMIT_UNAUTHENTICATED", "60/30")
# When Redis cannot be reached: open (let requests through, log it) or closed (answer 503).
RATE_LIMIT_ON_REDIS_ERROR = env_str("RATE_LIMIT_ON_REDIS_ERROR", "open")
if RATE_LIMIT_ON_REDIS_ERROR not in {"open", "closed"}:
    raise ImproperlyConfigured("RATE_LIMIT_ON_REDIS_ERROR must be open or closed")
# Peers (IPs or CIDRs) whose X-Forwarded-For is believed; everyone else's is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
AUDIT_LOG_TTL_DAYS = env_int("AUDIT_LOG_TTL_DAYS", 90)

# --- Server (evaapi.serve reads EVA_HTTP_HOST/PORT/WORKERS itself) --------------------------
# The largest request body any endpoint takes; a larger one is refused (413) before it is read.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 2_621_440)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
# Per server process: requests whose synchronous parts run at once (each holds a thread for its
# duration), and the threads async code (GraphQL, WebSocket consumers) calls services on.
EVA_REQUEST_THREADS = env_int("EVA_REQUEST_THREADS", 64)
EVA_SYNC_POOL_THREADS = env_int("EVA_SYNC_POOL_THREADS", 16)

# --- GraphQL (/graphql) -----------------------------------------------------------------------
GRAPHENE = {"SCHEMA": "evaapi.graphql.schema.schema"}
# Operations deeper than this many nested fields are refused before they run.
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10)
# Operations that may return more objects than this are refused before they run (lists count
# `first` items each; see docs/graphql.md).
GRAPHQL_MAX_COST = env_int("GRAPHQL_MAX_COST", 1000)
# The most tokens an operation's text may hold (bounds the parser's work on hostile input).
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 5000)
# Schema introspection (what GraphiQL and code generators read): on outside production.
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", EVA_ENV != "production")
# GraphQL over WebSocket (subscriptions_app): seconds a socket has to send connection_init.
GRAPHQL_WS_INIT_TIMEOUT_SECONDS = env_float("GRAPHQL_WS_INIT_TIMEOUT_SECONDS", 3.0)
# Seconds between the server's pings (two unanswered close the socket).
GRAPHQL_WS_PING_INTERVAL_SECONDS = env_float("GRAPHQL_WS_PING_INTERVAL_SECONDS", 15.0)
# Seconds between re-checks of a socket's credentials (a revoked key ends it within this).
GRAPHQL_WS_AUTH_RECHECK_SECONDS = env_float("GRAPHQL_WS_AUTH_RECHECK_SECONDS", 60.0)
# Operations running at once on one socket.
GRAPHQL_WS_MAX_SUBSCRIPTIONS = env_int("GRAPHQL_WS_MAX_SUBSCRIPTIONS", 100)
# Sockets one tenant may hold open, across every server process.
GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT = env_int("GRAPHQL_WS_MAX_CONNECTIONS_PER_TENANT", 1000)
# Events waiting for a slow subscriber, per subscription; past it the oldest are dropped (and it is told).
GRAPHQL_WS_QUEUE_SIZE = env_int("GRAPHQL_WS_QUEUE_SIZE", 100)
# The largest message a client may send.
GRAPHQL_WS_MAX_MESSAGE_BYTES = env_int("GRAPHQL_WS_MAX_MESSAGE_BYTES", 65536)
# The most missed events `events(after: ...)` replays; further behind is an error.
GRAPHQL_WS_REPLAY_MAX = env_int("GRAPHQL_WS_REPLAY_MAX", 1000)

# --- Events (evaapi/events) and the sweeper -------------------------------------------------
# How long GET /api/v1/events keeps an event, in days.
EVENT_TTL_DAYS = env_int("EVENT_TTL_DAYS", 30)
# Seconds between two rounds of `manage.py sweep` (events left in outboxes, stuck documents, purges).
SWEEP_INTERVAL_SECONDS = env_float("SWEEP_INTERVAL_SECONDS", 5.0)
# The sweeper leaves an item's events to the write that made them for this long first.
SWEEP_GRACE_SECONDS = env_float("SWEEP_GRACE_SECONDS", 5.0)

# --- Queries (spaces/queries) ----------------------------------------------------------------
# Pending and processing queries a tenant may have at once; one more is 429.
EVA_MAX_PENDING_QUERIES = env_int("EVA_MAX_PENDING_QUERIES", 20)
# A query not answered this long after it was asked ends failed.
EVA_QUERY_TIMEOUT_SECONDS = env_int("EVA_QUERY_TIMEOUT_SECONDS", 120)
# Spaces' retrieval indexes each process keeps loaded (the least recently used go first).
EVA_INDEXES_PER_PROCESS = env_int("EVA_INDEXES_PER_PROCESS", 64)

# --- Answer providers (spaces/queries/answers.py) -------------------------------------------
# extractive (the default; sentences of the retrieved chunks, no external service) | azure_openai
EVA_ANSWER_PROVIDER = env_str("EVA_ANSWER_PROVIDER", "extractive")
if EVA_ANSWER_PROVIDER not in {"extractive", "azure_openai"}:
    raise ImproperlyConfigured(f"EVA_ANSWER_PROVIDER must be extractive or azure_openai, got {EVA_ANSWER_PROVIDER!r}")
AZURE_OPENAI_ENDPOINT = env_str("AZURE_OPENAI_ENDPOINT")
# Empty: authenticate with Entra ID (azure-identity's DefaultAzureCredential).
AZURE_OPENAI_API_KEY = env_str("AZURE_OPENAI_API_KEY")
AZURE_OPENAI_DEPLOYMENT = env_str("AZURE_OPENAI_DEPLOYMENT")
AZURE_OPENAI_API_VERSION = env_str("AZURE_OPENAI_API_VERSION", "2024-10-21")
# Per attempt; the SDK retries timeouts, 429 and 5xx up to AZURE_OPENAI_MAX_RETRIES times.
AZURE_OPENAI_TIMEOUT_SECONDS = env_float("AZURE_OPENAI_TIMEOUT_SECONDS", 30.0)
AZURE_OPENAI_MAX_RETRIES = env_int("AZURE_OPENAI_MAX_RETRIES", 2)
if EVA_ANSWER_PROVIDER == "azure_openai" and not (AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT):
    raise ImproperlyConfigured("EVA_ANSWER_PROVIDER=azure_openai needs AZURE_OPENAI_ENDPOINT and "
                               "AZURE_OPENAI_DEPLOYMENT")
# --- end of answer providers ------------------------------------------------------------------

# --- Webhook delivery (webhooks/services.py) ---------------------------------------------------
# A wait of a delivery's schedule, or a Retry-After honoured, is at most a year: a longer one
# overflows the time arithmetic of the worker recording the attempt.
_WEBHOOK_WAIT_MAX_SECONDS = 365 * 86400


def _webhook_retry_schedule(name: str, default: str) -> list[float]:
    """Checked at start-up, not at the first failed attempt: the worker could not record that
    attempt, and would send it again and again."""
    try:
        seconds = [float(step) for step in env_list(name, default)]
    except ValueError:
        seconds = []
    if not seconds or not all(0 <= step <= _WEBHOOK_WAIT_MAX_SECONDS for step in seconds):  # NaN fails too
        raise ImproperlyConfigured(f"{name} must be one or more comma-separated numbers of seconds, each from 0 to "
                                   f"{_WEBHOOK_WAIT_MAX_SECONDS}, got {env_str(name)!r}")
    return seconds


# Seconds before each attempt, the first counting from the event: one attempt per entry.
WEBHOOK_RETRY_SCHEDULE = _webhook_retry_schedule("WEBHOOK_RETRY_SCHEDULE",
                                                 "0,5,300,1800,7200,18000,36000,50400,72000,86400")
# A 429 or 503's Retry-After is honoured up to this many seconds.
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env_int("WEBHOOK_RETRY_AFTER_MAX_SECONDS", 86400)
if not 0 <= WEBHOOK_RETRY_AFTER_MAX_SECONDS <= _WEBHOOK_WAIT_MAX_SECONDS:
    raise ImproperlyConfigured(f"WEBHOOK_RETRY_AFTER_MAX_SECONDS must be from 0 to {_WEBHOOK_WAIT_MAX_SECONDS}")
# An endpoint whose every delivery failed for this many days is disabled.
WEBHOOK_DISABLE_AFTER_FAILING_DAYS = env_float("WEBHOOK_DISABLE_AFTER_FAILING_DAYS", 5)
# How long the previous secret also signs after a rotation, by default (a rotation may say; at most 168).
WEBHOOK_ROTATION_GRACE_HOURS = env_float("WEBHOOK_ROTATION_GRACE_HOURS", 24)
# How long attempt logs are kept, in days.
WEBHOOK_LOG_TTL_DAYS = env_int("WEBHOOK_LOG_TTL_DAYS", 30)

# --- Webhooks: secrets, targets, HTTP client (webhooks/signing.py, safety.py, sender.py) ----------
# Encrypts endpoints' signing secrets at rest. Production: required, >= 32 random characters, not
# SECRET_KEY; development and tests derive one from SECRET_KEY.
WEBHOOK_SECRETS_KEY = env_str("WEBHOOK_SECRETS_KEY", _DERIVED and "webhook-secrets-key:" + _DERIVED)
# Earlier keys, still able to decrypt secrets stored under them (rotate WEBHOOK_SECRETS_KEY with these).
WEBHOOK_SECRETS_KEY_PREVIOUS = env_list("WEBHOOK_SECRETS_KEY_PREVIOUS")
# Hosts or CIDRs deliveries may reach although not public (e.g. 127.0.0.0/8 for a local receiver).
WEBHOOK_ALLOWED_TARGETS = env_list("WEBHOOK_ALLOWED_TARGETS")
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env_float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", 2.0)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 15.0)
# Requests one delivery worker process has in flight, in total and to one endpoint.
WEBHOOK_CONCURRENCY = env_int("WEBHOOK_CONCURRENCY", 100)
WEBHOOK_CONCURRENCY_PER_ENDPOINT = env_int("WEBHOOK_CONCURRENCY_PER_ENDPOINT", 10)
if min(WEBHOOK_CONNECT_TIMEOUT_SECONDS, WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_CONCURRENCY,
       WEBHOOK_CONCURRENCY_PER_ENDPOINT) <= 0:
    raise ImproperlyConfigured("WEBHOOK_CONNECT_TIMEOUT_SECONDS, WEBHOOK_TIMEOUT_SECONDS, WEBHOOK_CONCURRENCY and "
                               "WEBHOOK_CONCURRENCY_PER_ENDPOINT must be positive")
# --- end of webhooks: secrets, targets, HTTP client ---------------------------------------------

# --- Health ----------------------------------------------------------------------------------
READINESS_TIMEOUT_SECONDS = env_float("READINESS_TIMEOUT_SECONDS", 2.0)

# --- REST ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "evaapi.http.errors.drf_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["evaapi.api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_AUTHENTICATION_CLASSES": ["evaapi.auth.authentication.EvaAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "evaapi.auth.permissions.ScopePermission",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["evaapi.auth.throttling.TenantRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EVA API",
    # Says what ships: each part's paths join the description as they land.
    "DESCRIPTION": "Multi-tenant document Q&A. Available now: authentication (API keys, login, Entra ID tokens), "
    "API keys, the audit log, spaces, documents (upload, text extraction, chunks), events, queries "
    "(questions answered from a space's documents, with citations) and webhooks (signed deliveries of events, "
    "with retries and dead letters). The same domain is served as GraphQL at /graphql (docs/graphql.md), "
    "with subscriptions over WebSocket at the same path (docs/subscriptions.md). "
    "Errors: {\"error\": {\"code\", \"message\", \"details\"}, \"request_id\"}.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- CORS ------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_EXPOSE_HEADERS = [
    "ETag",
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "WWW-Authenticate",
]
CORS_ALLOW_HEADERS = ["authorization", "content-type", "x-api-key", "x-request-id", "if-match"]

# --- Logging: one JSON object per line, each carrying the request id ------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOG_FORMAT = env_str("LOG_FORMAT", "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "evaapi.http.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "evaapi.http.logging.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request log line comes from RequestIdMiddleware; Django's own would repeat it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # The Azure SDKs log every HTTP request and response at INFO.
        "azure": {"level": "WARNING"},
    },
}

if EVA_ENV == "production":
    _check_production()
