"""What the in-process benches (``dashboard.py``, ``project_page.py``, ``delivery.py``) share:
the embedded defaults (SQLite, local storage) in a throwaway folder, Django set up and migrated."""

from __future__ import annotations

import os
import tempfile


def embedded_django() -> str:
    """The throwaway folder, for the caller to remove at the end."""
    var_dir = tempfile.mkdtemp(prefix="photolisting-bench-")
    os.environ.update(
        PHOTOLISTING_VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="photolisting.settings.test",
        STORAGE_BACKEND="local",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    return var_dir
