"""API views for projects, folders and photos: validate, call one service or selector, serialize."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import agency_get_for_member
from photolisting.api import (
    CreatedAtCursorPagination,
    FastJSONRenderer,
    also_answers,
    conditional_json,
    etag,
    get_visible,
    not_modified,
    validated,
)
from photolisting.stamps import cache_stamps_read
from photolisting.uploads import MaxSizeUploadHandler
from projects import selectors, services, stamps
from projects.api.output import photo_entries, photo_entry, project_entry, project_entry_of
from projects.api.serializers import (
    FolderInput,
    FolderListQuery,
    FolderOutput,
    FolderUpdateInput,
    PhotoDeliverInput,
    PhotoListQuery,
    PhotoOutput,
    PhotoUpdateInput,
    PhotoUploadInput,
    ProjectInput,
    ProjectOrderInput,
    ProjectOutput,
    ProjectUpdateInput,
)
from projects.archive import photo_touch
from projects.models import PhotoVersion


class ProjectListCreateView(APIView):
    renderer_classes = [FastJSONRenderer]
    pagination_class = CreatedAtCursorPagination

    @extend_schema(responses=ProjectOutput(many=True), summary="Projects you can see")
    @also_answers(304)
    def get(self, request: Request) -> HttpResponse:
        tag = etag(request, *selectors.projects_changed(user=request.user))

        def page() -> dict:
            paginator = self.pagination_class()
            projects = selectors.project_rows(user=request.user)
            rows = paginator.paginate_queryset(projects, request, view=self)
            return paginator.get_paginated_response([project_entry(row) for row in rows]).data

        return conditional_json(request, tag, page)

    @extend_schema(request=ProjectInput, responses={201: ProjectOutput}, summary="Create a project")
    @also_answers(402)
    def post(self, request: Request) -> Response:
        data = validated(ProjectInput, request.data)
        agency_id = data.pop("agency", None)
        agency = (
            agency_get_for_member(user=request.user, agency_id=agency_id) if agency_id else None
        )
        project = services.project_create(user=request.user, agency=agency, **data)
        return Response(project_entry_of(project), status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses=ProjectOutput)
    def get(self, request: Request, project_id: str) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        return Response(project_entry_of(project))

    @extend_schema(request=ProjectUpdateInput, responses=ProjectOutput)
    def patch(self, request: Request, project_id: str) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        data = validated(ProjectUpdateInput, request.data, partial=True)
        project = services.project_update(project=project, **data)
        return Response(project_entry_of(project))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: str) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        services.project_delete(user=request.user, project=project)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectOrderView(APIView):
    @extend_schema(
        request=ProjectOrderInput,
        responses={200: OpenApiTypes.OBJECT},
        summary="Set the listing order of a project's photos",
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        data = validated(ProjectOrderInput, request.data)
        ordered = services.photo_order_set(project=project, photo_ids=data["photos"])
        return Response({"photos": [str(photo.id) for photo in ordered]})


class FolderListCreateView(APIView):
    @extend_schema(parameters=[FolderListQuery], responses=FolderOutput(many=True))
    def get(self, request: Request) -> Response:
        project_id = validated(FolderListQuery, request.query_params).get("project")
        if project_id:
            project_id = selectors.project_get(user=request.user, project_id=project_id).id
        folders = selectors.folder_list(user=request.user, project_id=project_id)
        return Response(FolderOutput(folders, many=True).data)

    @extend_schema(request=FolderInput, responses={201: FolderOutput})
    @also_answers(409)
    def post(self, request: Request) -> Response:
        data = validated(FolderInput, request.data)
        project = selectors.project_get(user=request.user, project_id=data["project"])
        folder = services.folder_create(project=project, name=data["name"])
        return Response(FolderOutput(folder).data, status=status.HTTP_201_CREATED)


class FolderDetailView(APIView):
    @extend_schema(responses=FolderOutput)
    def get(self, request: Request, folder_id: str) -> Response:
        return Response(
            FolderOutput(selectors.folder_get(user=request.user, folder_id=folder_id)).data
        )

    @extend_schema(request=FolderUpdateInput, responses=FolderOutput)
    @also_answers(409)
    def patch(self, request: Request, folder_id: str) -> Response:
        folder = selectors.folder_get(user=request.user, folder_id=folder_id)
        data = validated(FolderUpdateInput, request.data)
        folder = services.folder_rename(folder=folder, name=data["name"])
        return Response(FolderOutput(folder).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, folder_id: str) -> Response:
        folder = selectors.folder_get(user=request.user, folder_id=folder_id)
        services.folder_delete(folder=folder)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoListCreateView(APIView):
    parser_classes = [MultiPartParser]
    renderer_classes = [FastJSONRenderer]
    pagination_class = CreatedAtCursorPagination

    def cache_stamps(self, request: Request) -> tuple[str, ...]:
        if request.method != "GET":
            return ()
        return stamps.photo_list_stamps(request.query_params.get("project"))

    def initial(self, request: Request, *args, **kwargs) -> None:
        # Before DRF parses the body: the cap applies while bytes stream in (uploads only: a
        # list call would build Django's handlers for nothing).
        if request.method == "POST":
            request.upload_handlers.insert(
                0, MaxSizeUploadHandler(request, max_bytes=settings.PHOTO_MAX_UPLOAD_BYTES)
            )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        parameters=[PhotoListQuery],
        responses=PhotoOutput(many=True),
        summary="Photos you can see, newest first (cursor pagination)",
    )
    @also_answers(304)
    def get(self, request: Request) -> HttpResponse:
        stamped = cache_stamps_read(request)
        if stamped:
            # One project's list is valid under its stamps, read with the caller's
            # authentication (projects.stamps): no database round trip while unchanged. A held
            # validator names this very query, which was valid when it was answered.
            tag = etag(request, "stamps", *stamped.values())
            if (unchanged := not_modified(request, tag)) is not None:
                return unchanged
        query = validated(PhotoListQuery, request.query_params)
        filters = {
            "project_id": query.get("project"),
            "folder_id": query.get("folder"),
            "status": query.get("status"),
        }
        if not stamped:
            # The validator is read before the rows: a change in between costs a refetch,
            # never a stale answer kept.
            tag = etag(request, *selectors.photos_changed(user=request.user, **filters))

        def page() -> dict:
            paginator = self.pagination_class()
            photos = selectors.photos_visible(user=request.user, **filters)
            rows = paginator.paginate_queryset(selectors.photo_rows(photos), request, view=self)
            return paginator.get_paginated_response(photo_entries(rows, request=request)).data

        return conditional_json(request, tag, page)

    @extend_schema(
        request={"multipart/form-data": PhotoUploadInput},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="Retrying with the same key and file returns the first photo.",
            )
        ],
        responses={201: PhotoOutput, 200: PhotoOutput},
        summary="Upload an original photo (multipart); ingest runs in the background",
    )
    @also_answers(409, 422)
    def post(self, request: Request) -> Response:
        data = validated(PhotoUploadInput, request.data)
        project = selectors.project_get(user=request.user, project_id=data["project"])
        folder = None
        if data.get("folder"):
            folder = selectors.folder_get(user=request.user, folder_id=data["folder"])
        result = services.photo_upload(
            user=request.user,
            project=project,
            folder=folder,
            upload=data["file"],
            idempotency_key=request.headers.get("Idempotency-Key", "")[:255] or None,
        )
        response = Response(
            photo_entry(request, result.photo.id),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
        if not result.created:
            response["Idempotent-Replayed"] = "true"
        return response


class PhotoDetailView(APIView):
    renderer_classes = [FastJSONRenderer]

    @extend_schema(responses=PhotoOutput)
    @also_answers(304)
    def get(self, request: Request, photo_id: str) -> HttpResponse:
        row = selectors.photo_row_get(user=request.user, photo_id=photo_id)
        photo_touch(
            row["id"], last_accessed_at=row["last_accessed_at"], archived_at=row["archived_at"]
        )
        tag = etag(request, row["updated_at"])
        return conditional_json(request, tag, lambda: photo_entries([row], request=request)[0])

    @extend_schema(request=PhotoUpdateInput, responses=PhotoOutput, summary="Set the room label")
    def patch(self, request: Request, photo_id: str) -> Response:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
        data = validated(PhotoUpdateInput, request.data)
        services.photo_update(photo=photo, room_label=data["room_label"])
        return Response(photo_entry(request, photo.id))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, photo_id: str) -> Response:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
        services.photo_delete(photo=photo)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PhotoRetryView(APIView):
    @extend_schema(
        request=None,
        responses={202: PhotoOutput},
        summary="Process a failed or rejected photo again (409 not_retryable otherwise)",
    )
    @also_answers(409)
    def post(self, request: Request, photo_id: str) -> Response:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
        photo = services.photo_ingest_retry(photo=photo)
        return Response(photo_entry(request, photo.id), status=status.HTTP_202_ACCEPTED)


class PhotoDeliverView(APIView):
    @extend_schema(
        request=PhotoDeliverInput,
        responses=PhotoOutput,
        summary="Choose what the photo is delivered as: a version, the original, or the newest",
    )
    def post(self, request: Request, photo_id: str) -> Response:
        photo = selectors.photo_get(user=request.user, photo_id=photo_id)
        data = validated(PhotoDeliverInput, request.data)
        version = None
        if data.get("version"):
            visible = PhotoVersion.objects.filter(
                photo__project__in=selectors.projects_visible_to(request.user)
            )
            version = get_visible(visible, data["version"], "version")
        services.photo_deliver(
            user=request.user, photo=photo, version=version, original=bool(data.get("original"))
        )
        return Response(photo_entry(request, photo.id))
