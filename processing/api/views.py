"""API views for operations, presets, jobs and batches."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import agency_get_for_member
from imaging.ops import operation_schemas
from photolisting.api import (
    ARRAY_OF_OBJECTS,
    CreatedAtCursorPagination,
    FastJSONRenderer,
    also_answers,
    conditional_json,
    etag,
    validated,
)
from photolisting.errors import ApplicationError, NotFound
from photolisting.stamps import cache_stamps_read
from processing import selectors, services, stamps
from processing.api.output import job_entries
from processing.api.serializers import (
    BatchOutput,
    JobInput,
    JobListQuery,
    JobOutput,
    PresetInput,
    PresetOutput,
    PresetUpdateInput,
)
from processing.labels import details_in_words
from projects.selectors import photo_get, photo_list


class OperationListView(APIView):
    @extend_schema(
        responses={200: ARRAY_OF_OBJECTS},
        summary="Every operation a preset can use, with a JSON schema of its parameters",
    )
    def get(self, request: Request) -> Response:
        return Response(operation_schemas())


class PresetListCreateView(APIView):
    @extend_schema(
        responses=PresetOutput(many=True), summary="System, your and your agencies' presets"
    )
    def get(self, request: Request) -> Response:
        return Response(PresetOutput(selectors.preset_list(user=request.user), many=True).data)

    @extend_schema(request=PresetInput, responses={201: PresetOutput})
    @also_answers(402, 409)
    def post(self, request: Request) -> Response:
        data = validated(PresetInput, request.data)
        agency_id = data.pop("agency", None)
        agency = (
            agency_get_for_member(user=request.user, agency_id=agency_id) if agency_id else None
        )
        preset = services.preset_create(user=request.user, agency=agency, **data)
        return Response(PresetOutput(preset).data, status=status.HTTP_201_CREATED)


class PresetDetailView(APIView):
    @extend_schema(responses=PresetOutput)
    def get(self, request: Request, preset_ref: str) -> Response:
        return Response(
            PresetOutput(selectors.preset_get(user=request.user, preset_ref=preset_ref)).data
        )

    @extend_schema(request=PresetUpdateInput, responses=PresetOutput)
    @also_answers(402, 409)
    def patch(self, request: Request, preset_ref: str) -> Response:
        preset = selectors.preset_get(user=request.user, preset_ref=preset_ref)
        data = validated(PresetUpdateInput, request.data, partial=True)
        return Response(
            PresetOutput(services.preset_update(user=request.user, preset=preset, **data)).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request: Request, preset_ref: str) -> Response:
        preset = selectors.preset_get(user=request.user, preset_ref=preset_ref)
        services.preset_delete(user=request.user, preset=preset)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PresetPreviewInput(serializers.Serializer):
    photo = serializers.CharField(help_text="One of your ready photos.")
    operations = serializers.JSONField(help_text="[{op, params}], see /api/v1/operations/.")


class PresetPreviewView(APIView):
    @extend_schema(
        request=PresetPreviewInput,
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY)},
        summary="Try operations on a photo's 1600 px preview: a JPEG, no quota, nothing stored "
        "(AI steps and HDR merge are left out)",
    )
    def post(self, request: Request) -> HttpResponse:
        data = validated(PresetPreviewInput, request.data)
        photo = photo_get(user=request.user, photo_id=data["photo"])
        try:
            jpeg = services.preset_preview(
                user=request.user, photo=photo, operations=data["operations"]
            )
        except ApplicationError as error:
            if error.code != "invalid_operations":
                raise
            # Same code and shape, worded for the person reading the builder.
            raise ApplicationError(
                gettext("The steps are not valid."),
                code=error.code,
                details=details_in_words(error.details),
            ) from error
        response = HttpResponse(jpeg, content_type="image/jpeg")
        response["Cache-Control"] = "no-store"
        return response


class JobListCreateView(APIView):
    renderer_classes = [FastJSONRenderer]
    pagination_class = CreatedAtCursorPagination

    @extend_schema(parameters=[JobListQuery], responses=JobOutput(many=True))
    @also_answers(304)
    def get(self, request: Request) -> HttpResponse:
        query = validated(JobListQuery, request.query_params)
        jobs = selectors.job_rows(
            user=request.user,
            batch_id=query.get("batch"),
            status=query.get("status"),
            photo_id=query.get("photo"),
        )
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(jobs, request, view=self)
        # Job rows are small and change as work progresses: the page's own values are the
        # validator, and an unchanged page costs no links.
        tag = etag(request, [tuple(row.values()) for row in rows])
        return conditional_json(
            request,
            tag,
            lambda: paginator.get_paginated_response(job_entries(rows, request=request)).data,
        )

    @extend_schema(
        request=JobInput,
        responses={
            202: inline_serializer(
                "Accepted", {"batch": BatchOutput(), "jobs": JobOutput(many=True)}
            )
        },
        summary="Start photos × preset (or one bracket group for HDR); quota is reserved now",
    )
    @also_answers(402, 422)
    def post(self, request: Request) -> Response:
        data = validated(JobInput, request.data)
        wanted = [str(photo_id) for photo_id in data["photos"]]
        photos = {str(p.id): p for p in photo_list(user=request.user).filter(id__in=wanted)}
        missing = [photo_id for photo_id in wanted if photo_id not in photos]
        if missing:
            raise NotFound(
                gettext("No such photo."), code="photo_not_found", details={"photos": missing}
            )
        batch = services.jobs_create(
            user=request.user,
            photos=[photos[photo_id] for photo_id in wanted],
            preset=selectors.preset_get(user=request.user, preset_ref=data["preset"]),
            lane=data["lane"],
            bracket=data["bracket"],
            mask_regions=data.get("mask_regions") or [],
            idempotency_key=request.headers.get("Idempotency-Key", "")[:255],
        )
        jobs = list(selectors.job_rows(user=request.user, batch_id=batch.id))
        return Response(
            {
                "batch": {**BatchOutput(batch).data, **selectors.batch_progress(batch=batch)},
                "jobs": job_entries(jobs, request=request),
            },
            status=status.HTTP_202_ACCEPTED,
        )


class JobDetailView(APIView):
    """Polled by every open app: where the caller's authentication reads the job's stamps
    (``processing.stamps``), an unchanged job is answered from them and the answer kept for
    them, without reading its row."""

    renderer_classes = [FastJSONRenderer]

    def cache_stamps(self, request: Request, job_id: str) -> tuple[str, ...]:
        return stamps.job_stamps(job_id)

    @extend_schema(responses=JobOutput, summary="A job's status (ETag: poll with If-None-Match)")
    @also_answers(304)
    def get(self, request: Request, job_id: str) -> HttpResponse:
        def entry(row: dict) -> dict:
            return job_entries([row], request=request)[0]

        def read() -> dict:
            return selectors.job_row_get(user=request.user, job_id=job_id)

        if stamped := cache_stamps_read(request):
            tag = etag(request, "stamps", *stamped.values())
            return conditional_json(request, tag, lambda: entry(read()))
        row = read()
        return conditional_json(request, etag(request, tuple(row.values())), lambda: entry(row))


class JobCancelView(APIView):
    @extend_schema(request=None, responses=JobOutput, summary="Cancel a queued or running job")
    @also_answers(409)
    def post(self, request: Request, job_id: str) -> Response:
        job = services.job_cancel(job=selectors.job_get(user=request.user, job_id=job_id))
        return Response(_job_entry(request, job.id))


class JobRetryView(APIView):
    @extend_schema(request=None, responses={202: JobOutput}, summary="Run a failed job again")
    @also_answers(402, 409)
    def post(self, request: Request, job_id: str) -> Response:
        job = services.job_retry(job=selectors.job_get(user=request.user, job_id=job_id))
        return Response(_job_entry(request, job.id), status=status.HTTP_202_ACCEPTED)


def _job_entry(request: Request, job_id) -> dict:
    """A job as the API shows it, read again after a change."""
    row = selectors.job_row_get(user=request.user, job_id=job_id)
    return job_entries([row], request=request)[0]


class BatchDetailView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A batch with aggregate progress")
    def get(self, request: Request, batch_id: str) -> Response:
        batch = selectors.batch_get(user=request.user, batch_id=batch_id)
        return Response({**BatchOutput(batch).data, **selectors.batch_progress(batch=batch)})


class BatchCancelView(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, batch_id: str) -> Response:
        batch = selectors.batch_get(user=request.user, batch_id=batch_id)
        cancelled = services.batch_cancel(batch=batch)
        return Response({"cancelled": cancelled, **selectors.batch_progress(batch=batch)})
