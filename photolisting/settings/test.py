"""Test settings: the embedded defaults unless the CI run points at PostgreSQL, Redis and S3."""

from __future__ import annotations

import os
import tempfile

# Each test session gets its own var/ so storage and broker folders never leak between runs.
os.environ.setdefault("PHOTOLISTING_VAR_DIR", tempfile.mkdtemp(prefix="photolisting-test-"))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from photolisting.settings.base import *  # noqa: F403
from photolisting.settings.base import DATABASES, HEADLESS_JWT_PRIVATE_KEY, VAR_DIR, env
from photolisting.settings.keys import new_private_key_pem

SECRET_KEY = "test-secret-key-not-for-production"
HEADLESS_JWT_PRIVATE_KEY = HEADLESS_JWT_PRIVATE_KEY or new_private_key_pem()
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Live-server request threads would otherwise keep connections open past the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
WEBHOOK_ALLOW_PRIVATE_URLS = True
# Tests make many API calls a minute as Free users; the throttle's own tests turn it on.
API_THROTTLE = env.bool("API_THROTTLE", default=False)
API_LOG_BATCH_SIZE = 1  # each sampled call is written as it ends (gateway/tests batch their own)
# Webhook retries within a test's patience (the worker process reads these too).
WEBHOOK_RETRY_BASE_SECONDS = 0.1
WEBHOOK_MAX_ATTEMPTS = 3
WEBHOOK_DISABLE_AFTER_FAILURES = 2
# WhiteNoise looks at the files on each request instead of scanning a STATIC_ROOT nobody built.
WHITENOISE_AUTOREFRESH = True
