"""Production settings: every service and secret comes from the environment and has no default,
so a missing or malformed variable stops the start with ImproperlyConfigured naming it.

Select them with ``DJANGO_SETTINGS_MODULE=photolisting.settings.production`` (the default of
manage.py, wsgi, asgi and the Celery app)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from photolisting.settings.base import *  # noqa: F403
from photolisting.settings.base import (
    CELERY_BROKER_URL,
    STORAGE_BACKEND,
    env,
    env_secret,
    mailer_from_url,
)

DEBUG = False
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# base.py has loaded the key (keys.jwt_signing_key): a malformed one has already stopped the start.
HEADLESS_JWT_PRIVATE_KEY = env_secret("JWT_PRIVATE_KEY")
MAILERS = {"default": mailer_from_url(env.email_url("EMAIL_URL"))}

# Unset, base.py falls back to one-machine stand-ins: SQLite, an in-process cache, a filesystem
# broker (CELERY_BROKER_URL defaults to REDIS_URL), local folders and a loopback SITE_URL.
for name in ("DATABASE_URL", "REDIS_URL", "SITE_URL", "STORAGE_BACKEND"):
    env.str(name)
if STORAGE_BACKEND != "s3":
    # With s3, base.py has required each AWS_STORAGE_BUCKET_* name.
    raise ImproperlyConfigured(
        f"STORAGE_BACKEND must be 's3' in production, not {STORAGE_BACKEND!r}: local folders "
        "are not shared between the web and worker machines"
    )
if CELERY_BROKER_URL.startswith("filesystem://"):
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL: the filesystem broker serves one machine only; use Redis or AMQP"
    )

# Static files from the web processes (WhiteNoise): hashed names, gzip/brotli copies, cached
# forever; ``manage.py collectstatic`` runs when the image is built.
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind one load balancer by default: without it every client would share its address, and
# one attacker's failed logins would slow everyone down.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": TRUSTED_PROXY_COUNT}  # noqa: F405
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers and Prometheus reach the processes directly over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
