"""Settings for ``bench/api_load.py``: production settings (or, for the local-storage pass, the
local ones with debug off) plus the bench-only routes of ``api_load_urls``, which therefore never
exist in the shipped URL map."""

from __future__ import annotations

import os

if os.environ.get("BENCH_BASE_SETTINGS") == "local":
    # Production settings refuse local storage; the first pass is local storage on the same
    # PostgreSQL, Redis and gunicorn.
    from photolisting.settings.local import *  # noqa: F403
else:
    from photolisting.settings.production import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "api_load_urls"
