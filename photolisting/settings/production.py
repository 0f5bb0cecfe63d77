"""Production settings: every secret comes from the environment and has no default."""

from __future__ import annotations

from photolisting.settings.base import *  # noqa: F403
from photolisting.settings.base import env, env_secret, mailer_from_url

DEBUG = False
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
HEADLESS_JWT_PRIVATE_KEY = env_secret("JWT_PRIVATE_KEY")
MAILERS = {"default": mailer_from_url(env.email_url("EMAIL_URL"))}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
