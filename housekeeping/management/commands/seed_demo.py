"""Creates the demo account, a demo project with real photos already enhanced (before/after to
show), and a demo agency with a second member; safe to run again."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand

from accounts.models import Agency, Membership, User
from accounts.selectors import membership_list
from accounts.services import agency_create, membership_add, user_create_verified
from billing.models import Plan, Subscription
from billing.services import subscription_for
from photolisting.errors import ApplicationError
from processing.models import Job
from processing.selectors import preset_get
from processing.services import jobs_create
from projects.models import Photo, Project
from projects.selectors import photo_list
from projects.services import photo_upload, project_create

DEMO_EMAIL = "demo@photolisting.local"
DEMO_PASSWORD = "listing-demo-2026"
DEMO_AGENCY = "Agence des Lilas"
DEMO_COLLEAGUE_EMAIL = "colleague@photolisting.local"
DEMO_USER_PLAN = "premium"
DEMO_AGENCY_PLAN = "agency"
DEMO_PHOTOS = (
    "interiors/living-room.jpg",
    "interiors/kitchen.jpg",
    "interiors/bedroom.jpg",
    "camera/kitchen-iphone13.heic",
    "orientation/Portrait_6.jpg",
)
# A local preset (no AI provider needed), run on the demo photos so pages show before/after.
DEMO_PRESET = "bright-airy"
# Ingest runs in the worker beside the server; the demo's jobs need ready photos.
INGEST_WAIT_SECONDS = 120


class Command(BaseCommand):
    help = (
        "Create the demo user and project (photos from ../shared/data when present), and a demo "
        "agency with a colleague."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--data-dir",
            default=str(settings.BASE_DIR.parent / "shared" / "data"),
            help="Folder with the shared test photos.",
        )

    def handle(self, *args, data_dir: str, **options) -> None:
        user = user_create_verified(email=DEMO_EMAIL, password=DEMO_PASSWORD, first_name="Demo")
        # On Premium, so the demo shows portal exports and an own watermark.
        _put_on_plan(subscription_for(user=user), DEMO_USER_PLAN)
        project = Project.objects.filter(owner=user).first()
        if project is None:
            project = project_create(
                user=user, name="12 Rue des Lilas", address="12 Rue des Lilas, Lyon"
            )
            self._upload_photos(user, project, Path(data_dir))
        self._process_examples(user, project)
        agency = self._seed_team(user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (project: {project.name})\n"
                f"Demo team: {agency.name}, with {DEMO_COLLEAGUE_EMAIL} / {DEMO_PASSWORD}"
            )
        )

    def _seed_team(self, owner: User) -> Agency:
        colleague = user_create_verified(
            email=DEMO_COLLEAGUE_EMAIL, password=DEMO_PASSWORD, first_name="Camille"
        )
        owned = membership_list(user=owner).filter(
            role=Membership.Role.OWNER, agency__name=DEMO_AGENCY
        )
        agency = owned[0].agency if owned else agency_create(user=owner, name=DEMO_AGENCY)
        # The colleague joins within the Agency plan's seats like any member.
        _put_on_plan(subscription_for(agency=agency), DEMO_AGENCY_PLAN)
        if not membership_list(user=colleague).filter(agency=agency).exists():
            membership_add(agency=agency, by=owner, email=colleague.email)
        return agency

    def _upload_photos(self, user: User, project: Project, data_dir: Path) -> None:
        for relative in DEMO_PHOTOS:
            path = data_dir / relative
            if not path.exists():
                self.stdout.write(f"  skipped {relative}: not found in {data_dir}")
                continue
            with path.open("rb") as handle:
                photo_upload(user=user, project=project, upload=File(handle, name=path.name))
            self.stdout.write(f"  uploaded {relative}")

    def _process_examples(self, user: User, project: Project) -> None:
        """Runs the demo preset on every ready photo that has no version and no job yet, so a
        second run adds nothing; the jobs finish in the background worker."""
        photos = self._wait_for_ingest(user, project)
        started = set(
            Job.objects.filter(project=project)
            .exclude(status__in=[Job.Status.FAILED, Job.Status.CANCELLED])
            .values_list("photo_id", flat=True)
        )
        todo = [
            photo
            for photo in photos
            if photo.status == Photo.Status.READY
            and not photo.versions.all()
            and photo.id not in started
        ]
        if not todo:
            return
        preset = preset_get(user=user, preset_ref=DEMO_PRESET)
        try:
            batch = jobs_create(user=user, photos=todo, preset=preset)
        except ApplicationError as error:
            self.stdout.write(f"  no processed examples: {error.message}")
            return
        self.stdout.write(f"  enhancing {len(todo)} photos with {preset.name} (batch {batch.id})")

    def _wait_for_ingest(self, user: User, project: Project) -> list[Photo]:
        """The project's photos once none is still being ingested (or after the wait runs out:
        those left are enhanced on a later run)."""
        deadline = time.monotonic() + INGEST_WAIT_SECONDS
        while True:
            photos = list(photo_list(user=user, project_id=str(project.id)))
            waiting = [photo for photo in photos if photo.status in Photo.IN_FLIGHT]
            if not waiting or time.monotonic() > deadline:
                if waiting:
                    self.stdout.write(
                        f"  {len(waiting)} photos are still being ingested (is the worker "
                        "running?); run seed_demo again to enhance them"
                    )
                return photos
            time.sleep(0.5)


def _put_on_plan(subscription: Subscription, code: str) -> None:
    """There is no Stripe behind the demo: plans are set the way staff set one in the admin."""
    if subscription.plan.code != code:
        Subscription.objects.filter(pk=subscription.pk).update(plan=Plan.objects.get(code=code))
