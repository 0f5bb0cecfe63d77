"""API shapes for projects, folders and photos. Input and output serializers are separate."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from projects.models import Folder, Photo, Project


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


class PhotoUpdateInput(serializers.Serializer):
    room_label = serializers.CharField(max_length=60, allow_blank=True, trim_whitespace=True)


class ProjectOrderInput(serializers.Serializer):
    photos = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=5000,
        help_text="Photo ids in listing order; the project's other photos follow.",
    )


class PhotoDeliverInput(serializers.Serializer):
    """Exactly one of: a version of the photo, the original, or the newest result (default)."""

    version = serializers.CharField(required=False, max_length=64, help_text="A version id.")
    original = serializers.BooleanField(required=False)
    latest = serializers.BooleanField(required=False)

    def validate(self, data: dict) -> dict:
        chosen = [name for name in ("version", "original", "latest") if data.get(name)]
        if len(chosen) != 1:
            raise serializers.ValidationError(
                _('Send one of "version": id, "original": true or "latest": true.')
            )
        return data


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
    """The schema of a photo entry; ``projects/api/output.py`` builds the entries themselves."""

    rejection = PhotoProblem(
        allow_null=True, help_text="Why the file was refused: sending it again will not help."
    )
    failure = PhotoProblem(
        allow_null=True, help_text="Why our side could not finish ingest: retry may succeed."
    )
    urls = SignedLinks()
    versions = serializers.ListField(
        child=serializers.DictField(),
        help_text="Processed results, newest first: with the photo's preview, before/after pairs.",
    )

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
            "delivered_version",
            "deliver_original",
            "position",
            "room_label",
            "urls",
            "versions",
        ]


class UploadStartInput(serializers.Serializer):
    project = serializers.UUIDField()
    folder = serializers.UUIDField(required=False, allow_null=True)
    filename = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    content_type = serializers.CharField(max_length=40)
    size = serializers.IntegerField(min_value=0)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$", help_text="Hex sha256 of the file.")
