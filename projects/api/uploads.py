"""Direct-to-storage uploads over the API (start, resume, local data, complete)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from photolisting.api import also_answers, get_visible, validated
from photolisting.errors import ApplicationError
from photolisting.limits import request_body_length
from projects import selectors, uploads
from projects.api.output import photo_entry
from projects.api.serializers import PhotoOutput, UploadStartInput
from projects.models import DirectUpload
from projects.selectors import projects_visible_to


def upload_output(upload: DirectUpload) -> dict:
    target = uploads.upload_target(upload) if upload.status == DirectUpload.Status.PENDING else None
    return {
        "id": str(upload.id),
        "status": upload.status,
        "size": upload.size,
        "expires_at": upload.expires_at,
        "photo": str(upload.photo_id) if upload.photo_id else None,
        "target": target
        and {
            "method": target.method,
            "url": target.url,
            "fields": target.fields,
            "parts": target.parts,
            "part_size": upload.part_size or None,
            "received": target.received,
        },
    }


def _upload(request: Request, upload_id: str) -> DirectUpload:
    visible = DirectUpload.objects.filter(project__in=projects_visible_to(request.user))
    return get_visible(visible.select_related("project", "folder"), upload_id, "upload")


class UploadStartView(APIView):
    @extend_schema(
        request=UploadStartInput,
        responses={201: OpenApiTypes.OBJECT},
        summary="Start a direct upload: where to send the bytes (presigned), in parts if large",
    )
    def post(self, request: Request) -> Response:
        data = validated(UploadStartInput, request.data)
        project = selectors.project_get(user=request.user, project_id=data.pop("project"))
        folder_id = data.pop("folder", None)
        folder = selectors.folder_get(user=request.user, folder_id=folder_id) if folder_id else None
        upload = uploads.upload_start(user=request.user, project=project, folder=folder, **data)
        return Response(upload_output(upload), status=status.HTTP_201_CREATED)


class UploadDetailView(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="An upload's state, with fresh targets to resume"
    )
    def get(self, request: Request, upload_id: str) -> Response:
        return Response(upload_output(_upload(request, upload_id)))


class UploadCompleteView(APIView):
    @extend_schema(
        request=None, responses={201: PhotoOutput}, summary="Verify what arrived and ingest it"
    )
    @also_answers(409, 422)
    def post(self, request: Request, upload_id: str) -> Response:
        photo = uploads.upload_complete(upload=_upload(request, upload_id))
        return Response(photo_entry(request, photo.id), status=status.HTTP_201_CREATED)


class RawBodyParser(BaseParser):
    """The body as a stream, left unread: the service refuses or streams it."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream or io.BytesIO()


class UploadDataView(APIView):
    """Local storage only: the signed token in the URL is the permission, like a presigned URL."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # like an S3 presigned URL; the chunks of one file add up fast
    parser_classes = [RawBodyParser]

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY}, responses=OpenApiTypes.OBJECT
    )
    @also_answers(403, 409)
    def put(self, request: Request, upload_id: str) -> Response:
        uploads.upload_token_check(upload_id, request.query_params.get("token", ""))
        upload = DirectUpload.objects.filter(id=upload_id).first()
        if upload is None:
            raise ApplicationError(_("No such upload."), code="upload_not_found", status=404)
        start = _range_start(request.headers.get("Content-Range", ""))
        received = uploads.upload_receive_local(
            upload=upload,
            body=request.data,
            length=request_body_length(request),
            start=start,
        )
        return Response({"received": received, "size": upload.size})


def _range_start(header: str) -> int | None:
    """``bytes 0-1048575/5000000`` → 0; no header → the whole file in one PUT."""
    if not header:
        return None
    try:
        return int(header.split()[1].split("-")[0])
    except (IndexError, ValueError) as error:
        raise ApplicationError(_("Malformed Content-Range."), code="malformed_range") from error
