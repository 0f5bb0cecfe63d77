"""Settings for one machine (``make run``): debug on, dev-only secrets made on the spot."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from photolisting.settings.base import *  # noqa: F403
from photolisting.settings.base import VAR_DIR, env
from photolisting.settings.keys import dev_private_key

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-local-development-only")
if not HEADLESS_JWT_PRIVATE_KEY:  # noqa: F405
    # Made at the first app login, not when settings are imported; kept in var/ across restarts.
    HEADLESS_JWT_PRIVATE_KEY = SimpleLazyObject(
        lambda: dev_private_key(VAR_DIR / "jwt-private.pem")
    )
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=True)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG  # passkeys on http://127.0.0.1
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
