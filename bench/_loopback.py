"""What the loopback server benchmarks (``api_load.py``, ``soak.py``) share: the project on the
path, Django set up only to borrow helpers (this process opens no database), and the server
helpers of ``tests/test_production.py`` — production settings, gunicorn, moto, waiting."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.test")
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from tests.test_production import (  # noqa: E402
    BIN,
    BUCKETS,
    POSTGRES_ADMIN_URL,
    answers,
    free_port,
    production_env,
    server,
    wait_until,
)

__all__ = [
    "BIN",
    "BUCKETS",
    "POSTGRES_ADMIN_URL",
    "ROOT",
    "answers",
    "free_port",
    "production_env",
    "server",
    "wait_until",
]
