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
from photolisting.api import CreatedAtCursorPagination, validated
from photolisting.errors import ApplicationError, NotFound
from processing import selectors, services
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
        responses=OpenApiTypes.OBJECT,
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
    @extend_schema(parameters=[JobListQuery], responses=JobOutput(many=True))
    def get(self, request: Request) -> Response:
        query = validated(JobListQuery, request.query_params)
        jobs = selectors.job_list(
            user=request.user,
            batch_id=query.get("batch"),
            status=query.get("status"),
            photo_id=query.get("photo"),
        )
        paginator = CreatedAtCursorPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(
            JobOutput(page, many=True, context={"request": request}).data
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
        jobs = selectors.job_list(user=request.user, batch_id=batch.id)
        return Response(
            {
                "batch": {**BatchOutput(batch).data, **selectors.batch_progress(batch=batch)},
                "jobs": JobOutput(jobs, many=True, context={"request": request}).data,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class JobDetailView(APIView):
    @extend_schema(responses=JobOutput)
    def get(self, request: Request, job_id: str) -> Response:
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(JobOutput(job, context={"request": request}).data)


class JobCancelView(APIView):
    @extend_schema(request=None, responses=JobOutput, summary="Cancel a queued or running job")
    def post(self, request: Request, job_id: str) -> Response:
        job = services.job_cancel(job=selectors.job_get(user=request.user, job_id=job_id))
        return Response(JobOutput(job, context={"request": request}).data)


class JobRetryView(APIView):
    @extend_schema(request=None, responses={202: JobOutput}, summary="Run a failed job again")
    def post(self, request: Request, job_id: str) -> Response:
        job = services.job_retry(job=selectors.job_get(user=request.user, job_id=job_id))
        return Response(
            JobOutput(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


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
