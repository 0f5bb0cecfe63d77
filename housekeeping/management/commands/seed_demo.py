"""Creates the demo account and a demo project with real photos; safe to run again."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_create_verified
from projects.models import Project
from projects.services import photo_upload, project_create

DEMO_EMAIL = "demo@photolisting.local"
DEMO_PASSWORD = "listing-demo-2026"
DEMO_PHOTOS = (
    "interiors/living-room.jpg",
    "interiors/kitchen.jpg",
    "interiors/bedroom.jpg",
    "camera/kitchen-iphone13.heic",
    "orientation/Portrait_6.jpg",
)


class Command(BaseCommand):
    help = "Create the demo user and project (photos from ../shared/data when present)."

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
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}  (project: {project.name})"
            )
        )

    def _upload_photos(self, user: User, project: Project, data_dir: Path) -> None:
        for relative in DEMO_PHOTOS:
            path = data_dir / relative
            if not path.exists():
                self.stdout.write(f"  skipped {relative}: not found in {data_dir}")
                continue
            with path.open("rb") as handle:
                photo_upload(user=user, project=project, upload=File(handle, name=path.name))
            self.stdout.write(f"  uploaded {relative}")
