"""API shapes for operations, presets, jobs and batches."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers

from imaging.ops import validate_operations
from processing.models import Batch, Job, Preset
from processing.services import preset_text


class PresetInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    operations = serializers.JSONField(help_text="[{op, params}], see /api/v1/operations/.")
    agency = serializers.IntegerField(required=False, allow_null=True)


class PresetUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    operations = serializers.JSONField(required=False)


class PresetOutput(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    scope = serializers.CharField(read_only=True)
    available = serializers.SerializerMethodField()
    unavailable_reason = serializers.SerializerMethodField()

    class Meta:
        model = Preset
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "scope",
            "agency",
            "operations",
            "available",
            "unavailable_reason",
            "updated_at",
        ]

    def get_name(self, preset: Preset) -> str:
        """In the reader's language for shipped presets (find them by ``slug``)."""
        return preset_text(preset, preset.name)

    def get_description(self, preset: Preset) -> str:
        return preset_text(preset, preset.description)

    def get_available(self, preset: Preset) -> bool:
        return not _unavailable_reason(preset)

    def get_unavailable_reason(self, preset: Preset) -> str:
        """Why the preset cannot run on this server now, in the reader's language ("" if it can)."""
        return _unavailable_reason(preset)


def _unavailable_reason(preset: Preset) -> str:
    # The provider refuses every call without a key (provider_not_configured): say so up front.
    if settings.OPENAI_API_KEY or not validate_operations(preset.operations).ai_steps:
        return ""
    return _(
        "AI editing is not set up on this server (no AI provider is configured). "
        "Use a preset without AI, or ask your administrator."
    )


class JobInput(serializers.Serializer):
    photos = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=500)
    preset = serializers.CharField(help_text="Preset id or slug.")
    lane = serializers.ChoiceField(choices=Job.Lane.choices, default=Job.Lane.STANDARD)
    bracket = serializers.BooleanField(
        default=False, help_text="The photos are one bracket group (HDR presets)."
    )
    mask_regions = serializers.JSONField(
        required=False, help_text="Boxes [x0, y0, x1, y1] in 0..1 limiting AI edits."
    )


class JobError(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class JobOutput(serializers.ModelSerializer):
    """The schema of a job entry; ``processing/api/output.py`` builds the entries themselves."""

    error = JobError(allow_null=True, help_text="Why the job failed, in the reader's language.")
    result = serializers.DictField(
        allow_null=True, help_text="The version made, with signed links (as a photo's versions)."
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "batch",
            "photo",
            "bracket",
            "preset",
            "preset_name",
            "lane",
            "status",
            "progress",
            "attempts",
            "error",
            "provider_usage",
            "cost",
            "result",
            "created_at",
            "started_at",
            "finished_at",
        ]


class BatchOutput(serializers.ModelSerializer):
    class Meta:
        model = Batch
        fields = ["id", "project", "preset_name", "created_at", "completed_at"]


class JobListQuery(serializers.Serializer):
    batch = serializers.UUIDField(required=False)
    photo = serializers.UUIDField(required=False)
    status = serializers.ChoiceField(choices=Job.Status.choices, required=False)
