"""``manage.py smoke_test --base-url URL``: the canary gate. Exits non-zero on the first step
that fails (operations/smoke.py says which and what it saw)."""

from __future__ import annotations

import os
import uuid

from django.core.management.base import BaseCommand, CommandError

from accounts.services import user_create_verified, user_delete
from operations.smoke import Smoke, SmokeFailed


class Command(BaseCommand):
    help = (
        "Health, sign in, upload, ingest, process, signed download and clean-up against a "
        "running instance; exits 1 on any failure."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", required=True, help="e.g. https://canary.example.com")
        parser.add_argument("--email", default=os.environ.get("SMOKE_EMAIL", ""))
        parser.add_argument(
            "--password", default=os.environ.get("SMOKE_PASSWORD", ""), help="or SMOKE_PASSWORD"
        )
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Sign in as a throwaway verified account made in this instance's database, "
            "deleted afterwards (instead of --email/--password).",
        )
        parser.add_argument(
            "--header",
            action="append",
            default=[],
            help='Extra header on every API call, e.g. "X-Forwarded-Proto: https".',
        )
        parser.add_argument("--preset", default="bright-airy")
        parser.add_argument("--timeout", type=float, default=90.0, help="per waiting step")

    def handle(self, *args, **options) -> None:
        headers = dict(h.split(":", 1) for h in options["header"])
        headers = {name.strip(): value.strip() for name, value in headers.items()}
        user = None
        email, password = options["email"], options["password"]
        if options["create_user"]:
            email, password = f"smoke-{uuid.uuid4().hex[:12]}@smoke-test.invalid", uuid.uuid4().hex
            user = user_create_verified(email=email, password=password)
        elif not (email and password):
            raise CommandError("Give --email and --password (or SMOKE_*), or --create-user.")
        smoke = Smoke(
            base_url=options["base_url"],
            email=email,
            password=password,
            headers=headers,
            preset=options["preset"],
            timeout=options["timeout"],
            say=self.stdout.write,
        )
        try:
            smoke.run()
        except SmokeFailed as failure:
            raise CommandError(f"smoke test failed at {failure}") from failure
        finally:
            if user is not None:
                user_delete(user=user)
        self.stdout.write(self.style.SUCCESS("smoke test passed"))
