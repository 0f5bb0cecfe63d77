"""Creates the demo account, a demo project with real photos and a demo agency with a second
member; safe to run again."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand

from accounts.models import Agency, Membership, User
from accounts.selectors import membership_list
from accounts.services import agency_create, membership_add, user_create_verified
from billing.models import Plan, Subscription
from billing.services import subscription_for
from projects.models import Project
from projects.services import photo_upload, project_create

DEMO_EMAIL = "demo@photolisting.local"
DEMO_PASSWORD = "listing-demo-2026"
DEMO_AGENCY = "Agence des Lilas"
DEMO_COLLEAGUE_EMAIL = "colleague@photolisting.local"
DEMO_AGENCY_PLAN = "agency"
DEMO_PHOTOS = (
    "interiors/living-room.jpg",
    "interiors/kitchen.jpg",
    "interiors/bedroom.jpg",
    "camera/kitchen-iphone13.heic",
    "orientation/Portrait_6.jpg",
)


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
        project = Project.objects.filter(owner=user).first()
        if project is None:
            project = project_create(
                user=user, name="12 Rue des Lilas", address="12 Rue des Lilas, Lyon"
            )
            self._upload_photos(user, project, Path(data_dir))
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
        # There is no Stripe behind the demo: its agency gets the Agency plan's seats the way staff
        # set a plan in the admin, so the colleague joins within the plan like any member.
        subscription = subscription_for(agency=agency)
        if subscription.plan.code != DEMO_AGENCY_PLAN:
            Subscription.objects.filter(pk=subscription.pk).update(
                plan=Plan.objects.get(code=DEMO_AGENCY_PLAN)
            )
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
