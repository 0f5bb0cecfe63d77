"""Admin dashboard server time over a big history: 1,000,000 usage events (the last 90 days,
within retention), the last week of them aggregated by the real ``aggregate_usage`` (timed per
day), and two years of daily aggregates in all (older days written directly, shaped as the build
leaves them). The dashboard is
requested through Django's full path (middleware, session, admin, template) for 30 days,
a year and two years, with and without a plan filter — median of repeated requests — and
must never read the raw events. Baseline in the same run: the admin index page.
Target: < 500 ms.

Run: ``.venv/bin/python bench/dashboard.py`` (a fresh SQLite database in a temporary folder).
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _embedded import embedded_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVENTS = 1_000_000
EVENT_DAYS = 90
BUILD_DAYS = 7  # the days aggregate_usage rebuilds from the events here
HISTORY_DAYS = 730
AGENCIES, USERS = 100, 300
OPERATIONS = ["auto_enhance", "straighten", "hdr_merge", "virtual_staging", "declutter", "twilight"]
PLANS = ["free", "premium", "agency"]
KINDS = [
    ("upload", 40),
    ("job_succeeded", 35),
    ("job_failed", 2),
    ("login", 10),
    ("export", 4),
    ("share_view", 6),
    ("signup", 1),
    ("quota_refused", 1),
    ("ingest_rejected", 1),
]
REPEAT = 15
TARGET_MS = 500


def insert_events(cursor, today) -> None:
    rng = random.Random(11)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    start = datetime.combine(today - timedelta(days=EVENT_DAYS - 1), datetime.min.time(), UTC)
    span = EVENT_DAYS * 86400
    batch = []
    for n in range(EVENTS):
        kind = rng.choice(kinds)
        agency = rng.randrange(1, AGENCIES + 1) if rng.random() < 0.6 else None
        job = kind.startswith("job_")
        operation = rng.choice(OPERATIONS) if job else ""
        ai = 1 if operation in ("virtual_staging", "declutter", "twilight") else 0
        batch.append(
            (
                kind,
                (start + timedelta(seconds=rng.randrange(span))).isoformat(),
                rng.randrange(1, USERS + 1),
                agency,
                PLANS[agency % 3] if agency else "free",
                operation,
                rng.randrange(500, 9000) if job else None,
                f"{0.19 * ai:.6f}",
                ai,
                "{}",
            )
        )
        if len(batch) == 50_000 or n == EVENTS - 1:
            cursor.executemany(
                "INSERT INTO analytics_usageevent (kind, occurred_at, user_id, agency_id, plan,"
                " operation, duration_ms, provider_cost, ai_edits, metadata)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            batch = []


def insert_old_aggregates(cursor, first_built_day) -> int:
    """Two years up to the rebuilt week, shaped like what the build writes."""
    rng = random.Random(7)
    rows = 0
    metrics = ["upload", "job_succeeded", "job_failed", "login", "ai_edits", "provider_cost"]
    subjects = (
        [("all", "")]
        + [("plan", plan) for plan in PLANS]
        + [("agency", str(n)) for n in range(1, AGENCIES + 1)]
        + [("user", str(n)) for n in range(1, USERS + 1)]
    )
    for offset in range(1, HISTORY_DAYS - BUILD_DAYS + 1):
        day = (first_built_day - timedelta(days=offset)).isoformat()
        batch = [
            (day, subject_type, key, metric, rng.randrange(1, 400))
            for subject_type, key in subjects
            for metric in metrics
        ]
        batch += [
            (day, "operation", op, metric, rng.randrange(1, 300))
            for op in OPERATIONS
            for metric in ("job_succeeded", "job_failed")
        ]
        batch += [(day, "all", "", "active_users", rng.randrange(100, 300))]
        cursor.executemany(
            "INSERT INTO analytics_dailyaggregate (day, subject_type, subject_key, metric, value)"
            " VALUES (?, ?, ?, ?, ?)",
            batch,
        )
        rows += len(batch)
    return rows


def median_ms(client, url: str, params: dict) -> float:
    assert client.get(url, params).status_code == 200  # warm
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(samples) * 1000


def main() -> None:
    var_dir = embedded_django()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from analytics.aggregates import usage_aggregate
    from analytics.models import DailyAggregate, UsageEvent

    today = timezone.localdate()
    first_built_day = today - timedelta(days=BUILD_DAYS - 1)

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        insert_events(cursor, today)
        old_rows = insert_old_aggregates(cursor, first_built_day)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    built = usage_aggregate(since=first_built_day, until=today)
    build_s = time.perf_counter() - started
    events = UsageEvent.objects.count()
    aggregates = DailyAggregate.objects.count()
    span = DailyAggregate.objects.order_by("day").values_list("day", flat=True)
    print(
        f"{events:,} events, {aggregates:,} aggregates ({old_rows:,} written directly, "
        f"{built.rows:,} built from events) from {span.first()} to {span.last()}; "
        f"load {load_s:.0f} s, aggregate_usage over {built.days} days {build_s:.1f} s "
        f"({build_s / built.days * 1000:.0f} ms per day of {EVENTS // EVENT_DAYS:,} events)",
        flush=True,
    )

    staff = User.objects.create_user(
        email="staff@photolisting.local",
        password="bench-password",
        is_staff=True,
        is_superuser=True,
    )
    TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client = Client()
    client.force_login(staff)

    baseline = median_ms(client, "/admin/", {})
    cases = {
        "30 days": {},
        "365 days": {"start": (today - timedelta(days=364)).isoformat()},
        "2 years": {"start": (today - timedelta(days=HISTORY_DAYS - 1)).isoformat()},
        "2 years, premium plan": {
            "start": (today - timedelta(days=HISTORY_DAYS - 1)).isoformat(),
            "plan": "premium",
        },
        "2 years, CSV": {
            "start": (today - timedelta(days=HISTORY_DAYS - 1)).isoformat(),
            "format": "csv",
        },
    }
    print(
        f"Admin dashboard, server time (median of {REPEAT}); admin index {baseline:.1f} ms",
        flush=True,
    )
    for name, params in cases.items():
        with CaptureQueriesContext(connection) as queries:
            client.get("/admin/dashboard/", params)
        query_count = len(queries)  # before the next requests reset the query log
        raw = [q["sql"] for q in queries if "analytics_usageevent" in q["sql"]]
        assert not raw, f"the dashboard read raw events: {raw[0]}"
        ms = median_ms(client, "/admin/dashboard/", params)
        print(f"{name:>24}{ms:>10.1f} ms{query_count:>5} queries", flush=True)
        print(
            json.dumps(
                {
                    "bench": "dashboard",
                    "metric": f"admin dashboard, {name}",
                    "value": round(ms, 1),
                    "unit": "ms",
                    "queries": query_count,
                    "events": events,
                    "aggregates": aggregates,
                    "target_ms": TARGET_MS,
                    "baseline": {"metric": "admin index", "value": round(baseline, 1)},
                }
            )
        )
    shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
