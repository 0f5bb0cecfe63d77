"""Anomaly detection over the daily aggregates, and the anomaly rows operators work from.

Per subject, a day is compared with the same weekday of the previous weeks (weekly seasonality:
a busy Monday is compared with Mondays), using the median and the median absolute deviation so
one odd week does not move the baseline. System-wide, the failure rate of each operation is
compared with its recent rate, and sign-ups of the last hour with their usual hourly rate.
Checks that read other apps (queue backlog, provider budget) live in ``backoffice.monitors``
and hand their findings to ``anomalies_store`` like these do.

Every finding has a key (kind, subject, metric, day or hour): running detection again updates
the same row and never notifies twice."""

from __future__ import annotations

import json
import logging
import statistics
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext

from analytics.aggregates import AI_EDITS, PROVIDER_COST
from analytics.models import Anomaly, DailyAggregate, UsageEvent

logger = logging.getLogger(__name__)

SubjectType = DailyAggregate.SubjectType
Kind = UsageEvent.Kind

# What is watched per agency and per user.
WATCHED_METRICS = [Kind.UPLOAD, Kind.JOB_SUCCEEDED, Kind.JOB_FAILED, AI_EDITS, PROVIDER_COST]
BASELINE_WEEKS = 8
MIN_BASELINE_WEEKS = 4  # fewer weeks of history: too new to judge
MAD_SCALE = 1.4826  # MAD × this estimates the standard deviation of normal data
SPIKE_DEVIATIONS = 6  # robust z-score above which a value is a spike
CRITICAL_DEVIATIONS = 12
SPIKE_MIN_RATIO = 2  # ... and at least twice the usual value
SPIKE_MIN_VALUE = 20  # ... and not a handful (20 uploads, or 20 of cost units)
FAILURE_BASELINE_DAYS = 14
FAILURE_MIN_FAILED = 5
FAILURE_MIN_JUMP = 0.15  # the rate rose at least 15 points above its usual level
SIGNUP_BURST_MIN = 20
SIGNUP_BURST_RATIO = 10


@dataclass(frozen=True)
class Finding:
    """Something detection found, before it is stored."""

    key: str
    kind: str
    severity: str
    day: date
    summary: str
    evidence: dict
    subject_type: str = ""
    subject_key: str = ""
    metric: str = ""


@dataclass
class DetectionResult:
    found: list[Anomaly] = field(default_factory=list)
    new: list[Anomaly] = field(default_factory=list)
    notified: int = 0


def _number(value: Decimal | float | int) -> float:
    return round(float(value), 6)


def usage_spikes(day: date) -> list[Finding]:
    """Agencies and users whose ``day`` is far above the same weekday of recent weeks."""
    weeks = [day - timedelta(weeks=n) for n in range(1, BASELINE_WEEKS + 1)]
    rows = DailyAggregate.objects.filter(
        day__in=[day, *weeks],
        subject_type__in=[SubjectType.AGENCY, SubjectType.USER],
        metric__in=WATCHED_METRICS,
    ).values_list("subject_type", "subject_key", "metric", "day", "value")
    series: dict[tuple[str, str, str], dict[date, Decimal]] = defaultdict(dict)
    for subject_type, subject_key, metric, when, value in rows:
        series[subject_type, subject_key, metric][when] = value
    findings = []
    for (subject_type, subject_key, metric), values in series.items():
        today = values.get(day)
        if today is None or today < SPIKE_MIN_VALUE:
            continue
        known = [when for when in weeks if when in values]
        if len(known) < MIN_BASELINE_WEEKS:
            continue  # too little history to judge
        # Weeks since the subject's first active one; a quiet week (no row) counts as zero.
        oldest = min(known)
        history = [float(values.get(when, 0)) for when in weeks if when >= oldest]
        median = statistics.median(history)
        mad = statistics.median(abs(value - median) for value in history)
        spread = max(MAD_SCALE * mad, 0.1 * median, 1.0)
        score = (float(today) - median) / spread
        if score < SPIKE_DEVIATIONS or float(today) < SPIKE_MIN_RATIO * median:
            continue
        severity = (
            Anomaly.Severity.CRITICAL if score >= CRITICAL_DEVIATIONS else Anomaly.Severity.WARNING
        )
        findings.append(
            Finding(
                key=f"usage_spike:{subject_type}:{subject_key}:{metric}:{day.isoformat()}",
                kind=Anomaly.Kind.USAGE_SPIKE,
                severity=severity,
                day=day,
                subject_type=subject_type,
                subject_key=subject_key,
                metric=metric,
                summary=f"{subject_type} {subject_key}: {metric} {_number(today):g} on "
                f"{day:%a %Y-%m-%d}, usually {median:g}",
                evidence={
                    "value": _number(today),
                    "baseline": {
                        "method": "same weekday, median and MAD",
                        "days": [when.isoformat() for when in weeks if when >= oldest],
                        "values": history,
                        "median": median,
                        "mad": mad,
                    },
                    "score": round(score, 2),
                    "threshold": SPIKE_DEVIATIONS,
                },
            )
        )
    return findings


def failure_rate_spikes(day: date) -> list[Finding]:
    """Operations whose share of failed jobs on ``day`` is far above their recent rate."""
    start = day - timedelta(days=FAILURE_BASELINE_DAYS)
    rows = DailyAggregate.objects.filter(
        subject_type=SubjectType.OPERATION,
        metric__in=[Kind.JOB_SUCCEEDED, Kind.JOB_FAILED],
        day__gte=start,
        day__lte=day,
    ).values_list("subject_key", "metric", "day", "value")
    today: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    before: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for operation, metric, when, value in rows:
        (today if when == day else before)[operation][metric] += float(value)
    findings = []
    for operation, counts in today.items():
        failed = counts[Kind.JOB_FAILED]
        total = failed + counts[Kind.JOB_SUCCEEDED]
        if failed < FAILURE_MIN_FAILED:
            continue
        rate = failed / total
        usual_failed = before[operation][Kind.JOB_FAILED]
        usual_total = usual_failed + before[operation][Kind.JOB_SUCCEEDED]
        usual_rate = usual_failed / usual_total if usual_total else 0.0
        # The jump must exceed both a fixed margin and three binomial standard errors.
        noise = 3 * (max(usual_rate * (1 - usual_rate), 0.01) / total) ** 0.5
        if rate - usual_rate < max(FAILURE_MIN_JUMP, noise):
            continue
        severity = Anomaly.Severity.CRITICAL if rate >= 0.5 else Anomaly.Severity.WARNING
        findings.append(
            Finding(
                key=f"failure_rate:{operation}:{day.isoformat()}",
                kind=Anomaly.Kind.FAILURE_RATE,
                severity=severity,
                day=day,
                subject_type=SubjectType.OPERATION,
                subject_key=operation,
                metric=Kind.JOB_FAILED,
                summary=f"{operation}: {rate:.0%} of jobs failed on {day:%Y-%m-%d}, "
                f"usually {usual_rate:.0%}",
                evidence={
                    "failed": failed,
                    "total": total,
                    "rate": round(rate, 4),
                    "baseline": {
                        "days": FAILURE_BASELINE_DAYS,
                        "failed": usual_failed,
                        "total": usual_total,
                        "rate": round(usual_rate, 4),
                    },
                },
            )
        )
    return findings


def signup_burst(now=None) -> list[Finding]:
    """More sign-ups in the last hour than ten times the usual hourly rate (and at least 20)."""
    now = now or timezone.now()
    recent = UsageEvent.objects.filter(
        kind=Kind.SIGNUP, occurred_at__gt=now - timedelta(hours=1), occurred_at__lte=now
    ).count()
    if recent < SIGNUP_BURST_MIN:
        return []
    today = timezone.localdate(now)
    week = DailyAggregate.objects.filter(
        subject_type=SubjectType.ALL,
        metric=Kind.SIGNUP,
        day__gte=today - timedelta(days=7),
        day__lt=today,
    ).values_list("value", flat=True)
    hourly = float(sum(week)) / (7 * 24)
    if recent < SIGNUP_BURST_RATIO * hourly:
        return []
    hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    return [
        Finding(
            key=f"signup_burst:{hour.isoformat()}",
            kind=Anomaly.Kind.SIGNUP_BURST,
            severity=Anomaly.Severity.WARNING,
            day=today,
            subject_type=SubjectType.ALL,
            metric=Kind.SIGNUP,
            summary=f"{recent} sign-ups in the last hour, usually {hourly:.1f} an hour",
            evidence={"last_hour": recent, "baseline": {"days": 7, "per_hour": round(hourly, 3)}},
        )
    ]


def anomalies_store(findings: list[Finding]) -> DetectionResult:
    """Creates a row per new finding and refreshes the evidence of known ones (severity only
    ever rises). Its state is the operator's: detection never reopens or resolves it."""
    result = DetectionResult()
    for finding in findings:
        with transaction.atomic():
            anomaly, created = Anomaly.objects.select_for_update().get_or_create(
                key=finding.key,
                defaults={
                    "kind": finding.kind,
                    "severity": finding.severity,
                    "day": finding.day,
                    "summary": finding.summary[:300],
                    "evidence": finding.evidence,
                    "subject_type": finding.subject_type,
                    "subject_key": finding.subject_key,
                    "metric": finding.metric,
                },
            )
            if not created:
                anomaly.summary = finding.summary[:300]
                anomaly.evidence = finding.evidence
                if finding.severity == Anomaly.Severity.CRITICAL:
                    anomaly.severity = finding.severity
                anomaly.save(update_fields=["summary", "evidence", "severity", "last_seen_at"])
        result.found.append(anomaly)
        if created:
            result.new.append(anomaly)
    return result


def anomalies_notify() -> int:
    """Tells staff about anomalies not yet announced, once: each row is claimed by a
    conditional UPDATE before anything is sent, so concurrent runs never both send it."""
    pending = list(Anomaly.objects.filter(notified_at=None).order_by("detected_at"))
    claimed = [
        anomaly
        for anomaly in pending
        if Anomaly.objects.filter(pk=anomaly.pk, notified_at=None).update(
            notified_at=timezone.now()
        )
    ]
    if not claimed:
        return 0
    _send_email(claimed)
    if settings.SLACK_WEBHOOK_URL:
        _send_slack(claimed)
    return len(claimed)


def staff_emails() -> list[str]:
    """Where staff notices go: every active staff member's address."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    return list(staff.order_by("email").values_list("email", flat=True))


def _send_email(anomalies: list[Anomaly]) -> None:
    emails = staff_emails()
    if not emails:
        return
    with translation.override(settings.STAFF_LANGUAGE):
        subject = gettext("[PhotoListing] %(count)s new anomaly(ies)") % {"count": len(anomalies)}
        body = render_to_string(
            "analytics/anomaly_email.txt",
            {"anomalies": anomalies, "link": f"{settings.SITE_URL}/admin/analytics/anomaly/"},
        )
    send_mail(subject, body, None, emails)


def _send_slack(anomalies: list[Anomaly]) -> None:
    """One message to the incoming webhook; Slack being down never fails detection."""
    lines = [f"*{anomaly.get_severity_display()}* {anomaly.summary}" for anomaly in anomalies]
    link = f"{settings.SITE_URL}/admin/analytics/anomaly/"
    payload = {"text": "PhotoListing anomalies:\n" + "\n".join(lines) + f"\n<{link}|Open>"}
    request = urllib.request.Request(
        settings.SLACK_WEBHOOK_URL,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as error:
        logger.warning("Slack notification failed: %s", error)


def anomaly_acknowledge(*, anomaly: Anomaly, by) -> Anomaly:
    anomaly.state = Anomaly.State.ACKNOWLEDGED
    anomaly.acknowledged_by = by
    anomaly.acknowledged_at = timezone.now()
    anomaly.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "last_seen_at"])
    return anomaly


def anomaly_resolve(*, anomaly: Anomaly) -> Anomaly:
    anomaly.state = Anomaly.State.RESOLVED
    anomaly.resolved_at = timezone.now()
    anomaly.save(update_fields=["state", "resolved_at", "last_seen_at"])
    return anomaly


def detect(*, day: date, extra: Sequence[Finding] = ()) -> DetectionResult:
    """Runs every check on ``day`` (plus findings from checks elsewhere), stores, notifies."""
    findings = [*usage_spikes(day), *failure_rate_spikes(day), *extra]
    if day == timezone.localdate():
        findings += signup_burst()
    result = anomalies_store(findings)
    result.notified = anomalies_notify()
    return result
