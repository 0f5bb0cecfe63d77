"""Bench-only URLs for ``bench/api_load.py``, behind the project's full middleware: a bare JSON
endpoint (the baseline) and the plain DRF list a typical team ships (the peer), beside every
project URL."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from rest_framework import generics, serializers

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


urlpatterns = [
    path("bench/bare", bare),
    path("bench/peer/photos", PeerPhotoList.as_view()),
    path("", include("photolisting.urls")),
]
