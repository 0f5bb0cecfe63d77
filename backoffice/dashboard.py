"""What the admin dashboard shows, read from the daily aggregates (never the raw events), plus
the few live figures that have no history: the job backlog, the plan mix and MRR."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Agency
from analytics.aggregates import ACTIVE_USERS, AI_EDITS, PROVIDER_COST
from analytics.models import DailyAggregate, UsageEvent
from billing.charts import BarChart, bar_chart
from billing.models import Subscription
from billing.selectors import monthly_recurring_revenue, plan_mix
from processing.models import Job
from processing.selectors import job_backlog

Kind = UsageEvent.Kind
SubjectType = DailyAggregate.SubjectType

SERIES = [
    (ACTIVE_USERS, gettext_lazy("Daily active users")),
    (Kind.UPLOAD, gettext_lazy("Photos uploaded")),
    (Kind.JOB_SUCCEEDED, gettext_lazy("Photos processed")),
    (Kind.JOB_FAILED, gettext_lazy("Failed jobs")),
    (AI_EDITS, gettext_lazy("AI edits")),
    (PROVIDER_COST, gettext_lazy("Provider cost (USD)")),
    (Kind.SIGNUP, gettext_lazy("Sign-ups")),
]
TOP_AGENCIES = 10
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    plan: str = ""

    @classmethod
    def from_query(cls, query) -> Filters:
        """From ``?start=&end=&plan=``; anything unreadable falls back to the last 30 days."""
        today = timezone.localdate()
        try:
            end = date.fromisoformat(query.get("end", "")) if query.get("end") else today
            start = (
                date.fromisoformat(query["start"])
                if query.get("start")
                else end - timedelta(days=DEFAULT_DAYS - 1)
            )
        except ValueError:
            end, start = today, today - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            start, end = end, start
        end = min(end, today)  # no bars for days still to come
        start = min(start, end)
        return cls(start=start, end=end, plan=query.get("plan", "")[:40])

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def _subject(filters: Filters) -> dict:
    if filters.plan:
        return {"subject_type": SubjectType.PLAN, "subject_key": filters.plan}
    return {"subject_type": SubjectType.ALL, "subject_key": ""}


def daily_series(filters: Filters) -> dict[str, dict[date, Decimal]]:
    """Metric → day → value over the range, for everyone or one plan."""
    rows = DailyAggregate.objects.filter(
        **_subject(filters),
        metric__in=[metric for metric, _ in SERIES],
        day__gte=filters.start,
        day__lte=filters.end,
    ).values_list("metric", "day", "value")
    series: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for metric, day, value in rows:
        series[metric][day] = value
    return series


def failure_rates(filters: Filters) -> list[tuple[str, int, int, float]]:
    """(operation, failed, total, rate) over the range, worst first."""
    rows = (
        DailyAggregate.objects.filter(
            subject_type=SubjectType.OPERATION,
            metric__in=[Kind.JOB_FAILED, Kind.JOB_SUCCEEDED],
            day__gte=filters.start,
            day__lte=filters.end,
        )
        .values_list("subject_key", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for operation, metric, total in rows:
        counts[operation][metric] = int(total)
    result = []
    for operation, by_metric in counts.items():
        failed, total = by_metric[Kind.JOB_FAILED], sum(by_metric.values())
        result.append((operation, failed, total, failed / total if total else 0.0))
    return sorted(result, key=lambda row: (-row[3], row[0]))


def top_agencies(filters: Filters) -> list[tuple[str, int]]:
    """(agency name, photos uploaded and processed) over the range, busiest first."""
    rows = DailyAggregate.objects.filter(
        subject_type=SubjectType.AGENCY,
        metric__in=[Kind.UPLOAD, Kind.JOB_SUCCEEDED],
        day__gte=filters.start,
        day__lte=filters.end,
    )
    if filters.plan:
        on_plan = Subscription.objects.filter(plan__code=filters.plan, agency__isnull=False)
        rows = rows.filter(
            subject_key__in=[str(pk) for pk in on_plan.values_list("agency_id", flat=True)]
        )
    ranked = list(
        rows.values_list("subject_key")
        .annotate(total=Sum("value"))
        .order_by("-total", "subject_key")[:TOP_AGENCIES]
    )
    names = dict(
        Agency.objects.filter(pk__in=[int(key) for key, _ in ranked]).values_list("pk", "name")
    )
    return [(names.get(int(key), f"#{key}"), int(total)) for key, total in ranked]


@dataclass(frozen=True)
class Bucket:
    """One bar: a day, or a week or month of days on long ranges."""

    label: str
    axis_label: str
    days: list[date]


def buckets(days: list[date]) -> tuple[list[Bucket], str]:
    """Days as bars: one per day up to three months, then per week, then per month above a
    year, so a chart keeps a readable number of bars (the CSV keeps every day)."""
    if len(days) <= 92:
        return [Bucket(day.isoformat(), day.strftime("%d/%m"), [day]) for day in days], ""
    if len(days) <= 366:
        grouped: dict[date, list[date]] = defaultdict(list)
        for day in days:
            grouped[day - timedelta(days=day.weekday())].append(day)
        bars = [
            Bucket(f"{start.isoformat()} …", start.strftime("%d/%m"), members)
            for start, members in grouped.items()
        ]
        return bars, gettext("per week")
    monthly: dict[tuple[int, int], list[date]] = defaultdict(list)
    for day in days:
        monthly[day.year, day.month].append(day)
    bars = [
        Bucket(f"{year}-{month:02}", f"{month:02}/{year % 100:02}", members)
        for (year, month), members in monthly.items()
    ]
    return bars, gettext("per month")


def _bucket_value(metric: str, values: dict[date, Decimal], bucket: Bucket) -> float | int:
    """A bar's value: the bucket's total, but the mean for daily active users (a user active
    every day of a week is one user, not seven)."""
    total = sum((values.get(day, 0) for day in bucket.days), Decimal(0))
    if metric == ACTIVE_USERS:
        return round(float(total) / len(bucket.days))
    return round(float(total), 2) if metric == PROVIDER_COST else int(total)


def dashboard(filters: Filters) -> dict:
    """Everything the dashboard page and its CSV show."""
    series = daily_series(filters)
    days = filters.days
    bars, grain = buckets(days)
    period = gettext("%(start)s to %(end)s") % {"start": filters.start, "end": filters.end}
    charts: list[BarChart] = []
    for metric, title in SERIES:
        values = series.get(metric, {})
        charts.append(
            bar_chart(
                chart_id=f"chart-{metric}",
                title=str(title),
                description=f"{period}, {grain}" if grain else period,
                points=[(bar.label, _bucket_value(metric, values, bar)) for bar in bars],
                axis_labels=[bar.axis_label for bar in bars],
            )
        )
    failures = failure_rates(filters)
    charts.append(
        bar_chart(
            chart_id="chart-failure-rate",
            title=gettext("Failure rate by operation (%)"),
            description=gettext("Failed jobs out of finished jobs"),
            points=[(operation, round(rate * 100, 1)) for operation, _, _, rate in failures],
        )
    )
    agencies = top_agencies(filters)
    charts.append(
        bar_chart(
            chart_id="chart-top-agencies",
            title=gettext("Top agencies by usage"),
            description=gettext("Photos uploaded and processed"),
            points=agencies,
        )
    )
    mix = plan_mix()
    charts.append(
        bar_chart(
            chart_id="chart-plan-mix",
            title=gettext("Plan mix"),
            description=gettext("Subscriptions per plan, now"),
            points=[(name, count) for _, name, count in mix],
        )
    )
    now = timezone.now()
    backlog = []
    for lane, label in Job.Lane.choices:
        depth, oldest = job_backlog(lane=lane)
        age = int((now - oldest).total_seconds() // 60) if oldest else 0
        backlog.append({"lane": label, "depth": depth, "oldest_minutes": age})
    return {
        "filters": filters,
        "days": days,
        "series": series,
        "charts": charts,
        "failures": failures,
        "agencies": agencies,
        "plan_mix": mix,
        "mrr": sorted(monthly_recurring_revenue().items()),
        "backlog": backlog,
    }


def csv_rows(data: dict) -> list[list[str]]:
    """The daily series as shown (one row per day), then the failure rates and top agencies."""
    header = ["day", *[metric for metric, _ in SERIES]]
    rows = [header]
    for day in data["days"]:
        rows.append(
            [day.isoformat()]
            + [str(data["series"].get(metric, {}).get(day, 0)) for metric, _ in SERIES]
        )
    rows.append([])
    rows.append(["operation", "failed", "finished", "failure_rate"])
    rows += [[op, str(f), str(t), f"{rate:.4f}"] for op, f, t, rate in data["failures"]]
    rows.append([])
    rows.append(["agency", "photos_uploaded_and_processed"])
    rows += [[name, str(total)] for name, total in data["agencies"]]
    return rows
