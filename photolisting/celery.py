"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from pathlib import Path

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_process_init

from photolisting import observability

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


# glibc's mallopt parameter numbers (malloc.h).
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 1024 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


@worker_process_init.connect
def keep_big_buffers_out_of_the_heap(**kwargs) -> None:
    """A decoded photo is tens of megabytes. After such a buffer is freed, glibc raises its
    mmap threshold, so the next ones come from the heap, which fragments and never shrinks: a
    pool process grew from 120 to 340 MB over 1,000 ingests. A fixed threshold keeps every big
    buffer in its own mapping, given back to the system when freed. (No-op off glibc.)"""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


@task_postrun.connect
def give_back_freed_memory(**kwargs) -> None:
    """What a task freed in the heap goes back to the system before the next one."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@before_task_publish.connect
def carry_the_request_id(headers: dict, **kwargs) -> None:
    observability.stamp_headers(headers)


@task_prerun.connect
def log_with_the_request_id(task_id: str, task, **kwargs) -> None:
    observability.task_started(task_id, task)


@task_postrun.connect
def time_the_task(task_id: str, task, state: str | None = None, **kwargs) -> None:
    observability.task_ended(task_id, task, state)
