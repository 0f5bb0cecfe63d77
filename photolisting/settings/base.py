"""Settings shared by every environment, read from the environment (12-factor).

With nothing set the product runs on one machine: SQLite (WAL), local storage under ``var/``, a
filesystem Celery broker and console email. ``DATABASE_URL``, ``REDIS_URL`` and
``STORAGE_BACKEND=s3`` switch to PostgreSQL, Redis and S3. Importing settings writes nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from photolisting.settings.keys import jwt_signing_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@contextmanager
def _naming(var: str) -> Iterator[None]:
    """Turns a value that does not parse into ImproperlyConfigured naming its variable."""
    try:
        yield
    except ImproperlyConfigured as error:
        if var in str(error):
            raise
        raise ImproperlyConfigured(f"{var}: {error}") from error
    except ValueError as error:
        raise ImproperlyConfigured(f"{var}: {error}") from error


class StrictEnv(environ.Env):
    """django-environ, strict: a value that does not parse stops the start naming its variable
    (plain django-environ reads ``DEBUG=maybe`` as False and ``1e3`` as 13.0), and an empty value
    counts as unset."""

    BOOLEAN_FALSE_STRINGS = ("false", "off", "no", "n", "0")

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        name = f"{self.prefix}{var}"
        if self.ENVIRON.get(name) == "":
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"Set the {name} environment variable (it is empty)")
            if parse_default and default is not None:
                return self.parse_value(default, cast)
            return default
        with _naming(name):
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool and isinstance(value, str):
            word = value.strip().lower()
            if word in cls.BOOLEAN_TRUE_STRINGS:
                return True
            if word in cls.BOOLEAN_FALSE_STRINGS:
                return False
            raise ValueError(f"{value!r} is not a boolean (true/false, yes/no, on/off, 1/0)")
        if cast is float and isinstance(value, str):
            return float(value)
        return super().parse_value(value, cast)

    def db_url(self, var=environ.Env.DEFAULT_DATABASE_ENV, default=environ.Env.NOTSET, engine=None):
        # django-environ warns about an unknown scheme with the whole config, password included.
        with _naming(var), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config = super().db_url(var, default=default, engine=engine)
        if not config.get("ENGINE"):
            raise ImproperlyConfigured(
                f"{var} names no database engine (postgres://..., sqlite:///...)"
            )
        return config

    db = db_url

    def email_url(
        self, var=environ.Env.DEFAULT_EMAIL_ENV, default=environ.Env.NOTSET, backend=None
    ):
        with _naming(var):
            return super().email_url(var, default=default, backend=backend)

    email = email_url


env = StrictEnv()


def env_secret(name: str, default: str | None = None) -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    file_name = env.str(f"{name}_FILE", default="")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name}: {error}") from error
    if default is None:
        return env.str(name)
    return env.str(name, default=default)


VAR_DIR = Path(env.str("PHOTOLISTING_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "accounts.admin_config.PhotoListingAdminConfig",  # django.contrib.admin, MFA for staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # intcomma: "10 000" in French on the pages' quotas
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from our static files, no CDN
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.apple",
    "allauth.headless",
    "corsheaders",
    "storages",
    "runtime",
    "analytics",
    "accounts",
    "projects",
    "processing",
    "billing",
    "integrations",
    "delivery",
    "housekeeping",
    "gateway",
    "operations",
    "backoffice",
]

MIDDLEWARE = [
    "photolisting.observability.RequestMiddleware",  # first: request id, log line, latency
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",  # SECURE_CSP on every answer
    "corsheaders.middleware.CorsMiddleware",  # before anything that may answer by itself
    "photolisting.limits.RequestSizeLimitMiddleware",  # 413 before any body is read
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The reader's language: their choice (cookie), else Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "billing.throttling.RateLimitHeadersMiddleware",  # X-RateLimit-* on API answers
    "gateway.middleware.ApiRequestLogMiddleware",  # a sample of API calls, for the admin
]

ROOT_URLCONF = "photolisting.urls"
WSGI_APPLICATION = "photolisting.wsgi.application"

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
                "billing.views.usage_warnings",
                "runtime.context_processors.maintenance_banner",
            ],
        },
    },
]

# --- Database: SQLite in WAL mode by default, anything django-environ understands otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while the worker writes; IMMEDIATE makes writers queue
        # on the busy timeout instead of failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend, with a health check that reads the socket instead of a SELECT 1.
        DATABASES["default"]["ENGINE"] = "photolisting.postgres"
# The API's hottest reads run as statements prepared once per connection (photolisting.postgres);
# off behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and broker: Redis when REDIS_URL is set, in-process / filesystem otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        # Django's Redis cache, one client reused per pool (photolisting/cache.py).
        "default": {"BACKEND": "photolisting.cache.RedisCache", "LOCATION": REDIS_URL}
    }
    # Every JWT-authenticated API call looks its session up: from Redis, the database behind it.
    # (Shared between processes only through Redis: without it, sessions stay in the database.)
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The Celery app makes these folders once configured (photolisting/celery.py), not here.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # kombu's default is a "control" folder relative to the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default: a small photo would wait ~1 s.
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05),
    }
else:
    # Long jobs with acks_late must not be redelivered to a second worker while still running.
    # A message whose worker died unacknowledged is redelivered after the visibility timeout.
    VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        # Look for such messages about as often as the timeout allows (kombu: 10 s × 10).
        "unacked_restore_interval": min(10, VISIBILITY_TIMEOUT),
        "unacked_restore_throttle": 1 if VISIBILITY_TIMEOUT < 100 else 10,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Lost the broker mid-task: the task is cancelled and delivered again, not acknowledged on a
# dead connection. (SIGTERM is a warm shutdown: running tasks finish, the rest stay queued.)
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"projects.tasks.ingest_photo": {"queue": "ingest"}}
# Default time limits (soft, then hard); each queue has its own below (QUEUE_TIME_LIMITS).
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_QUEUES = "ingest,process,ai,offpeak,default"
# A pool process whose peak resident size (KiB) went above this is replaced after its task: a
# 12 MP photo peaks near 260 MB, so only the rare huge file (up to PHOTO_MAX_PIXELS) costs a new
# process. Big buffers are given back between tasks anyway (photolisting/celery.py).
# (The celery command also reads these two variables as its --max-*-per-child options.)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=300_000)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=500)

# --- Storage: four named storages, local folders or S3 buckets.
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
PHOTO_STORAGE_NAMES = ("originals", "processed", "thumbnails", "exports")
SIGNED_URL_MAX_AGE = env.int("SIGNED_URL_MAX_AGE", default=900)
# Links of the default lifetime are the same for this long, so browsers keep what they fetched.
SIGNED_URL_WINDOW = env.int("SIGNED_URL_WINDOW", default=300)
CLOUDFRONT_DOMAIN = env.str("AWS_CLOUDFRONT_DOMAIN", default="")
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]


def _storage(name: str) -> dict:
    if STORAGE_BACKEND == "local":
        # Renditions are rebuilt in place when an ingest is retried; originals never are.
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": MEDIA_ROOT / name, "allow_overwrite": name != "originals"},
        }
    if STORAGE_BACKEND == "s3":
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env.str(f"AWS_STORAGE_BUCKET_{name.upper()}"),
                "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
                "region_name": env.str("AWS_S3_REGION_NAME", default="us-east-1"),
                "access_key": env_secret("AWS_ACCESS_KEY_ID", default="") or None,
                "secret_key": env_secret("AWS_SECRET_ACCESS_KEY", default="") or None,
                "querystring_auth": True,
                "querystring_expire": SIGNED_URL_MAX_AGE,
                "file_overwrite": name != "originals",
                "default_acl": None,
                "signature_version": "s3v4",
                "addressing_style": "path",
                # With a CloudFront distribution and key pair, links are CloudFront-signed.
                "custom_domain": CLOUDFRONT_DOMAIN or None,
                "cloudfront_key_id": env.str("AWS_CLOUDFRONT_KEY_ID", default="") or None,
                "cloudfront_key": env_secret("AWS_CLOUDFRONT_KEY", default="") or None,
            },
        }
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'local' or 's3', not {STORAGE_BACKEND!r}")


STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT / "default"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    **{name: _storage(name) for name in PHOTO_STORAGE_NAMES},
}

# --- Uploads
PHOTO_MAX_UPLOAD_BYTES = env.int("PHOTO_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
# Anything with more pixels than this is treated as a decompression bomb (a 150 MP medium-format
# frame still passes).
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=150_000_000)
# A photo still uploaded/processing this many seconds after it was queued is stuck: the sweep
# queues it again once, then marks it failed after the same delay again.
PHOTO_INGEST_DEADLINE = env.int("PHOTO_INGEST_DEADLINE", default=900)
FILE_UPLOAD_TEMP_DIR = None
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# No request body may be larger than the largest photo plus its multipart framing.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=PHOTO_MAX_UPLOAD_BYTES + 1024 * 1024)

# --- Accounts (allauth): email login, mandatory verification, app clients on JWT.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's and allauth's, able to take a user row already read (accounts/backends.py).
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"  # e-mails name PhotoListing, not the host
LOGIN_REDIRECT_URL = "dashboard"
LOGIN_URL = "account_login"
HEADLESS_CLIENTS = ("app",)
# allauth's JWT strategy, plus: a reused refresh token ends its whole chain (accounts/tokens.py).
HEADLESS_TOKEN_STRATEGY = "accounts.tokens.TokenStrategy"
HEADLESS_JWT_PRIVATE_KEY = jwt_signing_key(env_secret("JWT_PRIVATE_KEY", default=""))
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env.int("JWT_ACCESS_TOKEN_EXPIRES_IN", default=300)
# An access token is checked against its session: logout and password change end it at once.
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
# Second factors for everyone (staff must have one before the admin opens: accounts/admin_site.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "PhotoListing"
# Failed passwords slow down the address and the account (accounts/login_backoff.py) instead of
# allauth's per-account lock, which anyone could trigger against a victim.
# (free failures, first wait in seconds, longest wait in seconds)
LOGIN_BACKOFF_IP = (5, 1.0, 900.0)
# How many proxies (load balancers) stand in front: the client's address is that many entries from
# the end of X-Forwarded-For (0: REMOTE_ADDR). Login backoff and API rates count per address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
LOGIN_BACKOFF_ACCOUNT = (10, 1.0, 30.0)
# Sign in with Google or Apple, in the browser and from the apps (headless provider-token flow:
# the app sends the provider's ID token). An address the provider has verified signs in to the
# account that already has it, instead of making a second one. Each provider is offered only when
# configured: GOOGLE_CLIENT_ID (+ _SECRET) for the web, GOOGLE_APP_CLIENT_IDS for the apps;
# APPLE_CLIENT_ID (service id, then the apps' bundle ids, comma-separated), APPLE_TEAM_ID,
# APPLE_KEY_ID, APPLE_PRIVATE_KEY (or _FILE).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_ONLY = False
_GOOGLE_CLIENT_ID = env.str("GOOGLE_CLIENT_ID", default="")
_APPLE_CLIENT_ID = env.str("APPLE_CLIENT_ID", default="")
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "SCOPE": ["openid", "email", "profile"],
        "APPS": (
            [{"client_id": _GOOGLE_CLIENT_ID, "secret": env_secret("GOOGLE_CLIENT_SECRET", "")}]
            if _GOOGLE_CLIENT_ID
            else []
        )
        + [
            {"client_id": client_id, "secret": "", "settings": {"hidden": True}}
            for client_id in env.list("GOOGLE_APP_CLIENT_IDS", default=[])
        ],
    },
    "apple": {
        "APPS": [
            {
                "client_id": _APPLE_CLIENT_ID,
                "secret": env.str("APPLE_KEY_ID", default=""),
                "key": env.str("APPLE_TEAM_ID", default=""),
                "settings": {"certificate_key": env_secret("APPLE_PRIVATE_KEY", "")},
            }
        ]
        if _APPLE_CLIENT_ID
        else [],
    },
}
# allauth's own login limits answer 429 without Retry-After and lock the account: off.
ACCOUNT_RATE_LIMITS = {"login": False, "login_failed": False}


def mailer_from_url(url: dict) -> dict:
    """Django 6.1 MAILERS entry from a django-environ EMAIL_URL (smtp+tls://user:pw@host:587)."""
    options = {
        "host": url.get("EMAIL_HOST"),
        "port": url.get("EMAIL_PORT"),
        "username": url.get("EMAIL_HOST_USER"),
        "password": url.get("EMAIL_HOST_PASSWORD"),
        "use_tls": url.get("EMAIL_USE_TLS"),
        "use_ssl": url.get("EMAIL_USE_SSL"),
    }
    if not url["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        options = {}
    return {"BACKEND": url["EMAIL_BACKEND"], "OPTIONS": {k: v for k, v in options.items() if v}}


MAILERS = {"default": mailer_from_url(env.email_url("EMAIL_URL", default="consolemail://"))}
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="PhotoListing <noreply@photolisting.local>"
)

# --- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # allauth's app-token (JWT) authentication, counting the plan rate in the same trip.
        "billing.throttling.ThrottledJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "photolisting.api.APIAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "photolisting.negotiation.FastContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "photolisting.api.exception_handler",
    # Per plan (Plan.api_rate), counted in the shared cache; staff are not limited.
    "DEFAULT_THROTTLE_CLASSES": ["billing.throttling.PlanRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # never a client-written X-Forwarded-For
}
API_THROTTLE = env.bool("API_THROTTLE", default=True)
# The API request log (admin): this share of calls, every server error; kept this many days.
API_LOG_SAMPLE_RATE = env.float("API_LOG_SAMPLE_RATE", default=0.1)
API_LOG_RETENTION_DAYS = env.int("API_LOG_RETENTION_DAYS", default=30)
# Entries are written this many at a time, or once the oldest is this old (gateway.services).
API_LOG_BATCH_SIZE = env.int("API_LOG_BATCH_SIZE", default=50)
API_LOG_BATCH_SECONDS = env.float("API_LOG_BATCH_SECONDS", default=10.0)


def _media_origins() -> list[str]:
    """Where signed links point when they are not ours: the S3 endpoint, CloudFront."""
    if STORAGE_BACKEND != "s3":
        return []
    endpoint = urlsplit(env.str("AWS_S3_ENDPOINT_URL", default=""))
    origins = [
        f"{endpoint.scheme}://{endpoint.netloc}" if endpoint.netloc else "https://*.amazonaws.com"
    ]
    return origins + ([f"https://{CLOUDFRONT_DOMAIN}"] if CLOUDFRONT_DOMAIN else [])


# Pages run only our own scripts (no inline script, no event-handler attributes); photos come
# from us or the storage; nothing frames us. Inline styles stay allowed (style attributes).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:", *_media_origins()],
    "connect-src": [CSP.SELF, *_media_origins()],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Browser apps on other origins may call the API and the app login, and nobody else.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|_allauth)/.*$"
CORS_ALLOW_HEADERS = [
    "accept", "accept-language", "authorization", "content-type", "content-range",
    "idempotency-key", "x-session-token", "x-request-id",
]  # fmt: skip
CORS_EXPOSE_HEADERS = [
    "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",
    "x-request-id",
]  # fmt: skip
API_ANONYMOUS_RATE = env.str("API_ANONYMOUS_RATE", default="20/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "PhotoListing API",
    "DESCRIPTION": "Upload listing photos, follow their ingest and fetch signed renditions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: Swagger UI would send the schema to validator.swagger.io.
    # No deep links: Swagger UI renders them as links inside each operation's button (axe:
    # nested-interactive), and the schema is not sent to an outside validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "accounts.models.Membership.Role",
        "InvitableRoleEnum": ["admin", "member"],
    },
}

LANGUAGE_CODE = "en"
# French first-class: the product's agencies publish to SeLoger and Leboncoin. Each app keeps its
# catalogue in <app>/locale/; pages, e-mails and API messages go through Django's i18n.
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# One JSON object per line (photolisting/observability.py), with the request id that follows a
# request into its tasks; LOG_FORMAT=text for people reading a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "photolisting.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# Workers log through the configuration above, not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Generative edits (OpenAI images.edit)
AI_PROVIDER = env.str("AI_PROVIDER", default="openai")
OPENAI_API_KEY = env_secret("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_IMAGE_MODEL = env.str("OPENAI_IMAGE_MODEL", default="gpt-image-1")
OPENAI_IMAGE_QUALITY = env.str("OPENAI_IMAGE_QUALITY", default="high")
OPENAI_TIMEOUT = env.float("OPENAI_TIMEOUT", default=120.0)
# The SDK retries 408/409/429/5xx with exponential backoff and honours retry-after.
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=3)
OPENAI_PRICES_PER_MILLION = {"image_input": "10", "text_input": "5", "output": "40"}
# The organisation's admin key reads the provider's own usage and costs (daily reconciliation).
OPENAI_ADMIN_KEY = env_secret("OPENAI_ADMIN_KEY", default="")
# Our retry loop (the SDK's own retries are off): base of the exponential backoff, seconds.
OPENAI_RETRY_BACKOFF = env.float("OPENAI_RETRY_BACKOFF", default=0.5)
# Provider requests one job may make over all its attempts, retries of 429/5xx included.
AI_MAX_CALLS_PER_JOB = env.int("AI_MAX_CALLS_PER_JOB", default=8)
# Circuit breaker per provider and operation: this many 5xx/timeouts in a row open it for a
# cooling period that doubles after each failed probe, up to the maximum.
AI_CIRCUIT_FAILURES = env.int("AI_CIRCUIT_FAILURES", default=3)
AI_CIRCUIT_COOLDOWN = env.float("AI_CIRCUIT_COOLDOWN", default=60.0)
AI_CIRCUIT_MAX_COOLDOWN = env.float("AI_CIRCUIT_MAX_COOLDOWN", default=300.0)
# Defaults of the runtime switches (runtime/switches.py) staff change in the admin.
AI_PROVIDER_ENABLED = env.bool("AI_PROVIDER_ENABLED", default=True)
AI_DAILY_BUDGET_USD = env.str("AI_DAILY_BUDGET_USD", default="")  # USD; blank: no limit

# --- Time limits per queue, (soft, hard) seconds. The soft limit ends the work cleanly (a job is
# retried, then failed; an ingest fails), the hard one kills a stuck process. An AI job may make
# two provider calls (two-step presets), each up to OPENAI_TIMEOUT per try, 1 + retries tries.
_AI_JOB_SECONDS = int(2 * OPENAI_TIMEOUT * (OPENAI_MAX_RETRIES + 1)) + 60
QUEUE_TIME_LIMITS = {
    "ingest": (60, 90),  # one decode of a photo up to PHOTO_MAX_PIXELS, two renditions
    "process": (600, 660),  # local presets and HDR merges; portal exports of a whole project
    "ai": (_AI_JOB_SECONDS, _AI_JOB_SECONDS + 60),
    "offpeak": (_AI_JOB_SECONDS, _AI_JOB_SECONDS + 60),  # AI or local, in the economy window
    "default": (CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT),  # webhooks, beat chores
}
# Tasks that always run on one queue take its limits; jobs get theirs when they are enqueued.
CELERY_TASK_ANNOTATIONS = {
    task: dict(zip(("soft_time_limit", "time_limit"), QUEUE_TIME_LIMITS[queue], strict=True))
    for task, queue in (
        ("projects.tasks.ingest_photo", "ingest"),
        ("delivery.tasks.build_export", "process"),
    )
}

# --- Jobs
# The economy lane runs only inside this daily window (server time, hours 0-23, end exclusive).
OFFPEAK_WINDOW = tuple(env.list("OFFPEAK_WINDOW", cast=int, default=[1, 6]))
# Default of the ``maintenance_banner`` runtime switch: a notice on every page.
MAINTENANCE_BANNER = env.str("MAINTENANCE_BANNER", default="")
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=5)
CELERY_BEAT_SCHEDULE = {
    "release-offpeak-jobs": {"task": "processing.tasks.release_offpeak_jobs", "schedule": 300.0},
    "release-waiting-ai-jobs": {
        "task": "processing.tasks.release_waiting_jobs",
        "schedule": 60.0,
    },
    "reconcile-ai-spend": {"task": "processing.tasks.reconcile_ai_spend", "schedule": 86400.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Billing (Stripe)
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")  # tests point the SDK at a local server
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
CELERY_BEAT_SCHEDULE["enforce-payment-grace"] = {
    "task": "billing.tasks.enforce_payment_grace",
    "schedule": 3600.0,
}

# --- Lifecycle
ARCHIVE_AFTER_DAYS = env.int("ARCHIVE_AFTER_DAYS", default=30)
ARCHIVE_ROOT = VAR_DIR / "archive"  # local stand-in for the cold tier
ARCHIVE_S3_STORAGE_CLASS = env.str("ARCHIVE_S3_STORAGE_CLASS", default="GLACIER_IR")
TEMP_FILE_MAX_AGE_HOURS = env.int("TEMP_FILE_MAX_AGE_HOURS", default=24)
INACTIVE_AFTER_DAYS = env.int("INACTIVE_AFTER_DAYS", default=365)
INACTIVE_NOTICE_DAYS = env.int("INACTIVE_NOTICE_DAYS", default=30)
CELERY_BEAT_SCHEDULE |= {
    "purge-temp-files": {"task": "housekeeping.tasks.purge_temp_files", "schedule": 3600.0},
    "purge-api-requests": {"task": "gateway.tasks.purge_api_requests", "schedule": 86400.0},
    "sweep-stuck-photos": {"task": "projects.tasks.sweep_stuck_photos", "schedule": 300.0},
    "archive-unused-photos": {
        "task": "housekeeping.tasks.archive_unused_photos",
        "schedule": 86400.0,
    },
    "notify-inactive-accounts": {
        "task": "housekeeping.tasks.notify_inactive_accounts",
        "schedule": 86400.0,
    },
    "purge-inactive-accounts": {
        "task": "housekeeping.tasks.purge_inactive_accounts",
        "schedule": 86400.0,
    },
}

# --- Operations: /metrics answers a staff session or ``Authorization: Bearer <METRICS_TOKEN>``;
# /readyz gives each dependency this long before naming it as down.
METRICS_TOKEN = env_secret("METRICS_TOKEN", default="")
READINESS_TIMEOUT = env.float("READINESS_TIMEOUT", default=2.0)

# --- Analytics (analytics/, backoffice/): raw usage events are kept this many days, their daily
# aggregates for good; anomaly notices go to staff by e-mail and, when set, to a Slack webhook.
ANALYTICS_EVENT_RETENTION_DAYS = env.int("ANALYTICS_EVENT_RETENTION_DAYS", default=180)
SLACK_WEBHOOK_URL = env_secret("SLACK_WEBHOOK_URL", default="")
STAFF_LANGUAGE = env.str("STAFF_LANGUAGE", default="en")  # staff e-mails: en or fr
# A job waiting longer than this (minutes; off-peak jobs outside their window excepted) is a
# backlog anomaly.
QUEUE_BACKLOG_MINUTES = env.int("QUEUE_BACKLOG_MINUTES", default=30)
CELERY_BEAT_SCHEDULE |= {
    "aggregate-usage": {"task": "analytics.tasks.aggregate_recent_usage", "schedule": 900.0},
    "prune-usage-events": {"task": "analytics.tasks.prune_usage_events", "schedule": 86400.0},
    "detect-anomalies": {"task": "backoffice.tasks.detect_anomalies", "schedule": 900.0},
    "send-daily-report": {
        "task": "backoffice.tasks.send_daily_report",
        "schedule": crontab(hour=6, minute=0),
    },
}

# --- Outbound webhooks
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=5)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
# Endpoints on private or loopback addresses (SSRF) are refused unless this is on (dev, tests).
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# Networks trusted anyway (an internal receiver; plain http allowed there), e.g. 10.8.0.0/16.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
WEBHOOK_MAX_REDIRECTS = env.int("WEBHOOK_MAX_REDIRECTS", default=3)
