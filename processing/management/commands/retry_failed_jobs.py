"""Requeues failed jobs (quota is reserved again for each); ``--dry-run`` only lists them."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from photolisting.errors import ApplicationError
from processing.models import Job
from processing.services import job_retry


class Command(BaseCommand):
    help = "Retry failed jobs, optionally only recent ones or those that failed with a given code."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hours", type=int, help="Only jobs that failed in the last N hours.")
        parser.add_argument("--code", help="Only jobs that failed with this error code.")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, hours: int | None, code: str | None, dry_run: bool, **options) -> None:
        jobs = Job.objects.filter(status=Job.Status.FAILED).select_related("project")
        if hours:
            jobs = jobs.filter(finished_at__gte=timezone.now() - timedelta(hours=hours))
        if code:
            jobs = jobs.filter(error_code=code)
        retried, refused = 0, []
        for job in jobs.order_by("finished_at"):
            if dry_run:
                self.stdout.write(f"would retry {job.id} ({job.error_code}: {job.error_message})")
                continue
            try:
                job_retry(job=job)
                retried += 1
            except ApplicationError as error:
                refused.append(f"{job.id}: {error.message}")
        for line in refused:
            self.stderr.write(f"not retried {line}")
        verb = "would retry" if dry_run else "retried"
        count = jobs.count() if dry_run else retried
        self.stdout.write(self.style.SUCCESS(f"{verb} {count} job{'s' if count != 1 else ''}"))
