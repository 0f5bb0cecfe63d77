"""Portal exports over the API."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery import exports
from delivery.models import Export
from delivery.selectors import selected_photos
from photolisting.api import ARRAY_OF_OBJECTS, also_answers, get_visible, validated
from projects import selectors
from projects.selectors import projects_visible_to


class ExportInput(serializers.Serializer):
    project = serializers.UUIDField()
    profile = serializers.SlugField()
    photos = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        help_text="The photos to export (built in listing order); default: every ready photo "
        "that is not a duplicate.",
    )


def export_output(export: Export, request: Request) -> dict:
    link = exports.export_link(export)
    return {
        "id": str(export.id),
        "project": str(export.project_id),
        "profile": export.profile,
        "status": export.status,
        "progress": export.progress,
        "photos": len(export.photo_ids),
        "file_name": export.file_name,
        "bytes": export.bytes,
        "error": export.error_message or None,
        "warnings": export.warnings,
        "url": link and (link if link.startswith("http") else request.build_absolute_uri(link)),
        "created_at": export.created_at,
    }


class ExportProfileListView(APIView):
    @extend_schema(responses={200: ARRAY_OF_OBJECTS}, summary="Portal profiles and their rules")
    def get(self, request: Request) -> Response:
        return Response([asdict(profile) for profile in exports.portal_profiles().values()])


class ExportCreateView(APIView):
    @extend_schema(
        request=ExportInput, responses={202: OpenApiTypes.OBJECT}, summary="Export for a portal"
    )
    @also_answers(402)
    def post(self, request: Request) -> Response:
        data = validated(ExportInput, request.data)
        project = selectors.project_get(user=request.user, project_id=data["project"])
        photos = selected_photos(project, data["photos"]) if data.get("photos") else None
        export = exports.export_create(
            user=request.user, project=project, profile_code=data["profile"], photos=photos
        )
        export.refresh_from_db()
        return Response(export_output(export, request), status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, export_id: str) -> Response:
        visible = Export.objects.filter(project__in=projects_visible_to(request.user))
        return Response(export_output(get_visible(visible, export_id, "export"), request))
