"""Queue depth and the age of the oldest waiting message, per Celery queue, read from the broker
at scrape time (so every web process reports the same truth, and no worker has to be alive).

Redis keeps each queue as a list (kombu pushes left, pops right): its length is the depth and its
last element the oldest message, whose ``published_at`` header photolisting.observability stamps.
AMQP tells the depth only (reading the oldest message would take it off the queue). The filesystem
broker keeps one file per message, written when it was sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from photolisting.celery import app


def queue_names() -> list[str]:
    return settings.CELERY_WORKER_QUEUES.split(",")


def queue_stats() -> dict[str, tuple[int, float | None]]:
    """Queue → (messages waiting, seconds the oldest has waited or None when unknown/empty)."""
    url = app.conf.broker_url
    if url.startswith("filesystem://"):
        return _filesystem_stats()
    with app.connection_for_read(connect_timeout=settings.READINESS_TIMEOUT) as broker:
        channel = broker.default_channel
        if broker.transport.driver_type == "redis":
            return {queue: _redis_queue(channel.client, queue) for queue in queue_names()}
        return {queue: (_amqp_depth(broker, queue), None) for queue in queue_names()}


def _redis_queue(client, queue: str) -> tuple[int, float | None]:
    depth = client.llen(queue)
    oldest = client.lindex(queue, -1) if depth else None
    if oldest is None:
        return depth, None
    published = orjson.loads(oldest).get("headers", {}).get("published_at")
    return depth, max(0.0, time.time() - float(published)) if published else None


def _amqp_depth(broker, queue: str) -> int:
    # A passive declare of a missing queue closes the channel: ask on a channel of its own.
    channel = broker.channel()
    try:
        return channel.queue_declare(queue=queue, passive=True).message_count
    except broker.channel_errors:
        return 0
    finally:
        channel.close()


def _filesystem_stats() -> dict[str, tuple[int, float | None]]:
    folder = Path(app.conf.broker_transport_options["data_folder_in"])
    stats = {}
    for queue in queue_names():
        sent = []
        for path in folder.glob(f"*.{queue}.msg"):
            try:
                sent.append(path.stat().st_mtime)  # written once, when the message was sent
            except FileNotFoundError:  # taken by a worker meanwhile
                continue
        stats[queue] = (len(sent), time.time() - min(sent) if sent else None)
    return stats


class QueueCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "photolisting_queue_messages", "Messages waiting in a Celery queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "photolisting_queue_oldest_message_age_seconds",
            "How long the oldest waiting message of a queue has waited (0 when empty).",
            labels=["queue"],
        )
        up = GaugeMetricFamily("photolisting_broker_up", "1 when the broker answered the scrape.")
        try:
            stats = queue_stats()
        except Exception:  # the broker is down: say so rather than fail the whole scrape
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for queue, (messages, waited) in stats.items():
            depth.add_metric([queue], messages)
            if waited is not None or not messages:
                age.add_metric([queue], waited or 0.0)
        yield from (up, depth, age)
