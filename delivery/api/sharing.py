"""Share links over the API."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from delivery import sharing
from delivery.models import ShareLink
from delivery.selectors import selected_photos
from photolisting.api import ARRAY_OF_OBJECTS, get_visible, validated
from projects import selectors
from projects.selectors import projects_visible_to


class ShareLinkInput(serializers.Serializer):
    days = serializers.IntegerField(
        default=sharing.DEFAULT_DAYS, min_value=1, max_value=sharing.MAX_DAYS
    )
    password = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
    allow_download = serializers.BooleanField(default=False)
    photos = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=5000,
        help_text="The photos to share (shown in listing order); default: every ready photo "
        "that is not a duplicate.",
    )


def share_output(link: ShareLink, request: Request) -> dict:
    return {
        "id": str(link.id),
        "url": request.build_absolute_uri(f"/s/{link.token}/"),
        "expires_at": link.expires_at,
        "password_protected": bool(link.password_hash),
        "allow_download": link.allow_download,
        "revoked": link.revoked_at is not None,
        "view_count": link.view_count,
        "last_viewed_at": link.last_viewed_at,
        "photos": link.photo_ids,
        "created_at": link.created_at,
    }


class ShareLinkListCreateView(APIView):
    @extend_schema(responses={200: ARRAY_OF_OBJECTS}, summary="A project's share links")
    def get(self, request: Request, project_id: str) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        return Response([share_output(link, request) for link in project.share_links.all()])

    @extend_schema(
        request=ShareLinkInput, responses={201: OpenApiTypes.OBJECT}, summary="Share a gallery"
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = selectors.project_get(user=request.user, project_id=project_id)
        data = validated(ShareLinkInput, request.data)
        wanted = data.pop("photos", None)
        photos = selected_photos(project, wanted) if wanted else None
        link = sharing.share_link_create(user=request.user, project=project, photos=photos, **data)
        return Response(share_output(link, request), status=status.HTTP_201_CREATED)


class ShareLinkRevokeView(APIView):
    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Revoke a share link now")
    def post(self, request: Request, link_id: str) -> Response:
        visible = ShareLink.objects.filter(project__in=projects_visible_to(request.user))
        link = sharing.share_link_revoke(link=get_visible(visible, link_id, "share link"))
        return Response(share_output(link, request))
