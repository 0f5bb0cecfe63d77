"""API shapes for projects, folders and photos. Input and output serializers are separate."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from processing.imaging import FORMAT_CONTENT_TYPES
from projects.delivery import signed_url
from projects.models import Folder, Photo, PhotoVersion, Project
from projects.problems import problem_message


class ProjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    listing_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    agency = serializers.IntegerField(required=False, allow_null=True, help_text="Agency id.")


class ProjectUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    listing_reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ProjectOutput(serializers.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True, default=None)

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "listing_reference",
            "address",
            "owner",
            "agency",
            "photo_count",
            "created_at",
            "updated_at",
        ]


class FolderInput(serializers.Serializer):
    project = serializers.UUIDField()
    name = serializers.CharField(max_length=120)


class FolderUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)


class FolderOutput(serializers.ModelSerializer):
    class Meta:
        model = Folder
        fields = ["id", "project", "name", "created_at"]


class PhotoUploadInput(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    project = serializers.UUIDField()
    folder = serializers.UUIDField(required=False, allow_null=True)


class FolderListQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)


class PhotoListQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    folder = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Photo.Status.choices, required=False)


class SignedLinks(serializers.Serializer):
    original = serializers.URLField(allow_null=True)
    thumbnail = serializers.URLField(allow_null=True)
    preview = serializers.URLField(allow_null=True)
    expires_in = serializers.IntegerField()


class PhotoProblem(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PhotoOutput(serializers.ModelSerializer):
    rejection = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "project",
            "folder",
            "original_filename",
            "status",
            "rejection",
            "failure",
            "format",
            "bytes",
            "width",
            "height",
            "orientation",
            "sha256",
            "phash",
            "duplicate_of",
            "captured_at",
            "camera_make",
            "camera_model",
            "created_at",
            "ingested_at",
            "archived_at",
            "urls",
            "versions",
        ]

    @extend_schema_field(PhotoProblem(allow_null=True))
    def get_rejection(self, photo: Photo) -> dict | None:
        """Why the file was refused: sending the same bytes again will not help."""
        return _problem(photo) if photo.status == Photo.Status.REJECTED else None

    @extend_schema_field(PhotoProblem(allow_null=True))
    def get_failure(self, photo: Photo) -> dict | None:
        """Why our side could not finish ingest: ``POST .../retry`` may succeed."""
        return _problem(photo) if photo.status == Photo.Status.FAILED else None

    @extend_schema_field(SignedLinks)
    def get_urls(self, photo: Photo) -> dict:
        return photo_links(photo, request=self.context.get("request"))

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_versions(self, photo: Photo) -> list[dict]:
        """Processed results, newest first: with the photo's preview, before/after pairs."""
        request = self.context.get("request")
        return [version_links(version, request=request) for version in photo.versions.all()]


def _problem(photo: Photo) -> dict:
    code = photo.rejection_code
    return {"code": code, "message": problem_message(code, photo.rejection_message)}


def version_links(version: PhotoVersion, *, request=None) -> dict:
    """A processed version with signed links to the file and its renditions."""
    extension = version.storage_key.rsplit(".", 1)[-1]
    renditions = {r.spec: r for r in version.renditions.all()}
    links = {
        spec: _absolute(
            request,
            signed_url(
                "thumbnails",
                renditions[spec].storage_key,
                content_type="image/webp",
                filename=f"{version.id}-{spec}.webp",
            ),
        )
        if spec in renditions
        else None
        for spec in ("thumbnail", "preview")
    }
    links["download"] = _absolute(
        request,
        signed_url(
            version.storage_name,
            version.storage_key,
            content_type=FORMAT_CONTENT_TYPES.get(version.format, f"image/{extension}"),
            filename=f"{_ascii(version.preset_name) or 'photo'}-{str(version.id)[:8]}.{extension}",
            inline=False,
        ),
    )
    return {
        "id": str(version.id),
        "preset_name": version.preset_name,
        "ai_edited": bool(version.ai_operations),
        "ai_operations": version.ai_operations,
        "format": version.format,
        "width": version.width,
        "height": version.height,
        "bytes": version.bytes,
        "created_at": version.created_at,
        "urls": links,
    }


def photo_links(photo: Photo, *, request=None) -> dict:
    """Signed, expiring links to the original (as an attachment) and its renditions."""
    renditions = {r.spec: r for r in photo.renditions.all() if r.version_id is None}
    stem = (photo.original_filename.rsplit(".", 1)[0] or str(photo.id))[:80]
    links: dict = {
        "original": _absolute(
            request,
            signed_url(
                "originals",
                photo.storage_key,
                content_type=FORMAT_CONTENT_TYPES.get(photo.format, "application/octet-stream"),
                filename=f"{_ascii(stem)}.{photo.storage_key.rsplit('.', 1)[-1]}",
                inline=False,
            ),
        ),
        "expires_in": settings.SIGNED_URL_MAX_AGE,
    }
    for spec in ("thumbnail", "preview"):
        rendition = renditions.get(spec)
        links[spec] = rendition and _absolute(
            request,
            signed_url(
                "thumbnails",
                rendition.storage_key,
                content_type="image/webp",
                filename=f"{_ascii(stem)}-{spec}.webp",
            ),
        )
    return links


def _ascii(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in name)


def _absolute(request, url: str) -> str:
    if request is None or url.startswith("http"):
        return url
    return request.build_absolute_uri(url)


class UploadStartInput(serializers.Serializer):
    project = serializers.UUIDField()
    folder = serializers.UUIDField(required=False, allow_null=True)
    filename = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    content_type = serializers.CharField(max_length=40)
    size = serializers.IntegerField(min_value=0)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text="Hex sha256 of the file.")
