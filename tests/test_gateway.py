"""The API's plan rates hold across processes: two gunicorn workers on PostgreSQL share their
counters through Redis, so a Free user gets exactly the plan's 30 calls a minute whichever worker
answers, and a Premium user below their rate is never refused."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import requests

from tests.test_production import (
    BIN,
    answers,
    database,  # noqa: F401 (fixture)
    free_port,
    manage,
    production_env,
    server,
    wait_until,
)

REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of its own: its counters are flushed
PASSWORD = "Listing-photos-2026!"
CREATE_USERS = f"""
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from billing.models import Plan, Subscription

for email, plan in (("free@example.com", "free"), ("premium@example.com", "premium")):
    user = get_user_model().objects.create_user(email=email, password={PASSWORD!r})
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    Subscription.objects.create(user=user, plan=Plan.objects.get(code=plan), status="active")
"""
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def burst(url: str, token: str, count: int) -> list[requests.Response]:
    """``count`` calls from 8 concurrent connections."""
    headers = {**BEHIND_TLS, "Authorization": f"Bearer {token}"}
    with ThreadPoolExecutor(8) as pool:
        return list(
            pool.map(lambda _: requests.get(url, headers=headers, timeout=30), range(count))
        )


def test_plan_rates_hold_across_two_gunicorn_workers_sharing_redis(tmp_path, database):  # noqa: F811
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = production_env(tmp_path / "var", DATABASE_URL=database, REDIS_URL=REDIS_URL)
    manage(env, "migrate", "--no-input", "-v0", timeout=300)
    manage(env, "shell", "-c", CREATE_USERS)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    command = [str(BIN / "gunicorn"), "photolisting.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
    with server(command, env, log) as process:
        wait_until(lambda: answers("127.0.0.1", port), process, log, timeout=60)
        tokens = {}
        for email in ("free@example.com", "premium@example.com"):
            login = requests.post(
                f"{base}/_allauth/app/v1/auth/login", json={"email": email, "password": PASSWORD},
                headers=BEHIND_TLS, timeout=30,
            )  # fmt: skip
            assert login.status_code == 200, login.text + log.read_text()
            tokens[email] = login.json()["meta"]["access_token"]
        if time.time() % 60 > 40:  # both bursts inside one minute's window
            time.sleep(61 - time.time() % 60)

        free = burst(f"{base}/api/v1/me", tokens["free@example.com"], 45)
        premium = burst(f"{base}/api/v1/me", tokens["premium@example.com"], 100)

    statuses = [r.status_code for r in free]
    assert statuses.count(200) == 30 and statuses.count(429) == 15, statuses
    refused = [r for r in free if r.status_code == 429]
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in refused)
    assert {r.headers["X-RateLimit-Limit"] for r in free} == {"30"}
    assert {r.headers["X-RateLimit-Remaining"] for r in refused} == {"0"}
    assert {r.json()["error"]["code"] for r in refused} == {"throttled"}
    assert [r.status_code for r in premium] == [200] * 100  # below Premium's 120 a minute

    served_by = {
        entry["process"]
        for entry in map(json.loads, filter(lambda line: line.startswith("{"), log.open()))
        if entry.get("path") == "/api/v1/me"
    }
    assert len(served_by) == 2, "both workers answered, counting together"
