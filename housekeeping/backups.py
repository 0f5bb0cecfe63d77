"""Data portability and storage integrity: a user's or an agency's data as one ZIP (metadata
JSON + originals + results), and a comparison of storage against the database."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.storage import storages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q

from accounts.models import Agency, Membership, User
from billing.models import Subscription
from delivery.models import Export
from photolisting import storage
from processing.models import AIResult, Job
from projects.models import DirectUpload, Photo, PhotoVersion, Project, Rendition


def _extension(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _project_record(project: Project, files: list[tuple[str, str, str]]) -> dict:
    """The project as JSON; each stored file it refers to is added to ``files``."""
    photos = []
    for photo in (
        project.photos.select_related("folder").prefetch_related("versions").order_by("created_at")
    ):
        name = f"originals/{project.id}/{photo.id}.{_extension(photo.storage_key)}"
        files.append(("originals", photo.storage_key, name))
        versions = []
        for version in photo.versions.all():
            version_name = f"versions/{project.id}/{version.id}.{_extension(version.storage_key)}"
            files.append((version.storage_name, version.storage_key, version_name))
            versions.append(
                {
                    "id": version.id,
                    "file": version_name,
                    "preset": version.preset_name,
                    "operations": version.operations,
                    "ai_operations": version.ai_operations,
                    "created_at": version.created_at,
                }
            )
        photos.append(
            {
                "id": photo.id,
                "file": name,
                "original_filename": photo.original_filename,
                "folder": photo.folder.name if photo.folder else None,
                "status": photo.status,
                "format": photo.format,
                "width": photo.width,
                "height": photo.height,
                "bytes": photo.bytes,
                "sha256": photo.sha256,
                "captured_at": photo.captured_at,
                "camera": f"{photo.camera_make} {photo.camera_model}".strip(),
                "uploaded_at": photo.created_at,
                "versions": versions,
            }
        )
    return {
        "id": project.id,
        "name": project.name,
        "listing_reference": project.listing_reference,
        "address": project.address,
        "created_at": project.created_at,
        "folders": list(project.folders.values_list("name", flat=True)),
        "photos": photos,
        "jobs": list(
            Job.objects.filter(project=project).values(
                "id", "preset_name", "status", "created_at", "finished_at", "cost"
            )
        ),
    }


def export_account_data(
    *,
    out: Path,
    user: User | None = None,
    agency: Agency | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Writes the ZIP; returns how many files it holds besides ``account.json``."""
    if user is not None:
        projects = Project.objects.filter(owner=user)
        subject = {
            "type": "user",
            "email": user.email,
            "name": user.get_full_name(),
            "joined": user.date_joined,
        }
        subscription = Subscription.objects.filter(user=user).select_related("plan").first()
        subject["agencies"] = [
            {"agency": m.agency.name, "role": m.role}
            for m in Membership.objects.filter(user=user).select_related("agency")
        ]
    else:
        projects = Project.objects.filter(agency=agency)
        subject = {"type": "agency", "name": agency.name, "slug": agency.slug}
        subject["members"] = [
            {"email": m.user.email, "role": m.role}
            for m in Membership.objects.filter(agency=agency).select_related("user")
        ]
        subscription = Subscription.objects.filter(agency=agency).select_related("plan").first()
    if subscription:
        subject["plan"] = {"code": subscription.plan.code, "status": subscription.status}
        subject["invoices"] = list(
            subscription.invoices.values("number", "status", "amount_paid", "currency", "created")
        )
    files: list[tuple[str, str, str]] = []
    records = [_project_record(project, files) for project in projects.order_by("created_at")]
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(
            "account.json",
            json.dumps({"subject": subject, "projects": records}, cls=DjangoJSONEncoder, indent=2),
        )
        for index, (storage_name, key, name) in enumerate(files):
            with _open_any(storage_name, key) as stored, archive.open(name, "w") as target:
                for chunk in iter(lambda s=stored: s.read(1024 * 1024), b""):
                    target.write(chunk)
            if progress:
                progress(index + 1, len(files))
    return len(files)


def _open_any(storage_name: str, key: str):
    """Reads an object wherever it is, the local cold tier included."""
    if storage_name == "originals":
        return storage.open_original(key)
    return storages[storage_name].open(key, "rb")


@dataclass
class StorageReport:
    orphans: dict[str, list[str]] = field(default_factory=dict)  # objects without rows
    missing: dict[str, list[str]] = field(default_factory=dict)  # rows without objects

    @property
    def clean(self) -> bool:
        return not any(self.orphans.values()) and not any(self.missing.values())


def _expected_keys() -> dict[str, set[str]]:
    processed = set(
        PhotoVersion.objects.filter(storage_name="processed").values_list("storage_key", flat=True)
    )
    processed |= set(AIResult.objects.values_list("storage_key", flat=True))
    return {
        "originals": set(Photo.objects.values_list("storage_key", flat=True))
        | set(
            DirectUpload.objects.filter(status=DirectUpload.Status.PENDING).values_list(
                "storage_key", flat=True
            )
        ),
        "processed": processed,
        "thumbnails": set(Rendition.objects.values_list("storage_key", flat=True)),
        "exports": set(
            Export.objects.exclude(storage_key="").values_list("storage_key", flat=True)
        ),
    }


def verify_storage(*, delete_orphans: bool = False) -> StorageReport:
    """Compares each storage with the database. Deletes nothing unless asked, and never a row."""
    report = StorageReport()
    archived_local = {
        key
        for key in Photo.objects.filter(~Q(archived_at=None)).values_list("storage_key", flat=True)
        if storage.archived_locally(key)
    }
    for name, expected in _expected_keys().items():
        stored = {key for key, _ in storage.list_objects(name)}
        report.orphans[name] = sorted(stored - expected)
        report.missing[name] = sorted(
            expected - stored - (archived_local if name == "originals" else set())
        )
        if name == "originals":
            # Pending uploads have no object until the client sends one.
            pending = set(
                DirectUpload.objects.filter(status=DirectUpload.Status.PENDING).values_list(
                    "storage_key", flat=True
                )
            )
            report.missing[name] = [key for key in report.missing[name] if key not in pending]
        if delete_orphans:
            for key in report.orphans[name]:
                storages[name].delete(key)
    # The local cold tier: archived originals whose photo is gone (or no longer archived).
    archived_rows = set(
        Photo.objects.filter(~Q(archived_at=None)).values_list("storage_key", flat=True)
    )
    report.orphans["archive"] = sorted(set(storage.list_archived()) - archived_rows)
    report.missing["archive"] = []  # an archived row's file is checked with the originals
    if delete_orphans:
        for key in report.orphans["archive"]:
            storage.delete_archived(key)
    return report
