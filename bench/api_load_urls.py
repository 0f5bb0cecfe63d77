"""Bench-only URLs for ``bench/api_load.py``, behind the project's full middleware: a bare JSON
endpoint (the baseline) and the plain DRF list a typical team ships (the peer), beside every
project URL."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework import generics, serializers

from photolisting import urls as project_urls
from projects.models import Photo


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


class PeerPhotoOutput(serializers.ModelSerializer):
    class Meta:
        model = Photo
        fields = "__all__"


class PeerPhotoList(generics.ListAPIView):
    """``ListAPIView`` + ``ModelSerializer(fields="__all__")``, JWT-authenticated like ours."""

    serializer_class = PeerPhotoOutput
    pagination_class = None

    def get_queryset(self):
        return Photo.objects.filter(project__owner=self.request.user)


# The project's routes spliced in, not included: resolving ours takes the levels it takes in
# production.
urlpatterns = [
    path("bench/bare", bare),
    path("bench/peer/photos", PeerPhotoList.as_view()),
    *project_urls.urlpatterns,
]
handler400, handler404, handler500 = (
    project_urls.handler400,
    project_urls.handler404,
    project_urls.handler500,
)
