"""gunicorn for production: ``gunicorn -c ops/gunicorn.conf.py`` (the image's command).

Sync workers, one per core: pages and API calls are CPU-bound Python, and threads made p99 worse
here (FACTS.md). Slow clients are the TLS proxy's job (it buffers uploads), so a request that
takes longer than ``timeout`` is stuck, not slow. Every setting can be overridden with gunicorn's
own ``GUNICORN_CMD_ARGS`` or the variables below.
"""

import multiprocessing
import os

wsgi_app = "photolisting.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
# Uploads are capped at PHOTO_MAX_UPLOAD_BYTES and streamed from the proxy's buffer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On SIGTERM (a deploy, a scale-in) requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A worker is replaced after this many requests (plus jitter, so not all at once): a leak, if
# one creeps in, stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# The request middleware writes one JSON line per request (photolisting/observability.py).
accesslog = None
errorlog = "-"
# Only the proxy in front may say a request came over https (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Workers import the app themselves: a deploy's new code is never half-loaded in the arbiter.
preload_app = False


def child_exit(server, worker) -> None:
    """A dead worker's live gauges leave the sum /metrics reports (counters stay, as they must)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
