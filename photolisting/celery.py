"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

# Like manage.py, wsgi and asgi: production unless DJANGO_SETTINGS_MODULE says otherwise.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photolisting.settings.production")

app = Celery("photolisting")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

FILESYSTEM_BROKER_FOLDERS = (
    "data_folder_in",
    "data_folder_out",
    "processed_folder",
    "control_folder",
)


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender: Celery, source, **kwargs) -> None:
    """The filesystem transport needs its folders before the first message is sent or read.

    Made when a process first uses the app (sends a task, starts a worker or beat), so importing
    settings writes nothing and a clean clone still runs."""
    if not source.broker_url.startswith("filesystem://"):
        return
    options = source.broker_transport_options
    for folder in FILESYSTEM_BROKER_FOLDERS:
        if folder in options:
            Path(options[folder]).mkdir(parents=True, exist_ok=True)
