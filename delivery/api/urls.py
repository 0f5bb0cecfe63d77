from django.urls import path

from delivery.api import exports, sharing

urlpatterns = [
    path(
        "projects/<str:project_id>/share-links/",
        sharing.ShareLinkListCreateView.as_view(),
        name="api-share-links",
    ),
    path(
        "share-links/<str:link_id>/revoke",
        sharing.ShareLinkRevokeView.as_view(),
        name="api-share-revoke",
    ),
    path("export-profiles/", exports.ExportProfileListView.as_view(), name="api-export-profiles"),
    path("exports/", exports.ExportCreateView.as_view(), name="api-exports"),
    path("exports/<str:export_id>/", exports.ExportDetailView.as_view(), name="api-export"),
]
