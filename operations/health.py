"""What readiness means: the database, the cache, the broker and the storage each answer within
``READINESS_TIMEOUT`` seconds. The four are asked at once, so a dead one costs the timeout once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection

from photolisting.celery import app


def _database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # this thread's connection; nothing else would close it


def _cache() -> None:
    token = uuid.uuid4().hex
    cache.set("readyz", token, timeout=10)
    if cache.get("readyz") != token:
        raise RuntimeError("the cache did not keep a value")


def _broker() -> None:
    options = app.conf.broker_transport_options or {}
    if app.conf.broker_url.startswith("filesystem://"):
        folder = Path(options["data_folder_in"])
        if not folder.is_dir():
            raise RuntimeError(f"no broker folder {folder}")
        return
    timeout = settings.READINESS_TIMEOUT
    with app.connection_for_write(connect_timeout=timeout) as broker:
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        if broker.transport.driver_type == "redis":
            # kombu's Redis connection is lazy: ask the server itself.
            broker.default_channel.client.ping()


def _storage() -> None:
    # A HEAD in S3 mode: proves the endpoint, credentials and bucket answer.
    storages["originals"].exists("readyz-probe")


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "storage": _storage,
}


def readiness() -> dict[str, str]:
    """Each dependency's state: ``ok``, ``timeout`` or the error it raised."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
    futures = {name: pool.submit(check) for name, check in CHECKS.items()}
    deadline = time.monotonic() + settings.READINESS_TIMEOUT
    results = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = "ok"
        except FutureTimeout:
            results[name] = "timeout"
        except Exception as error:  # whatever the client raised is the answer
            results[name] = f"{type(error).__name__}: {error}"[:300]
    # A hung check keeps its thread until its own timeout; the answer does not wait for it.
    pool.shutdown(wait=False, cancel_futures=True)
    return results
