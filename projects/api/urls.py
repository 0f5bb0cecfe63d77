from django.urls import path

from projects.api import uploads, views

urlpatterns = [
    path("projects/", views.ProjectListCreateView.as_view(), name="api-projects"),
    path("projects/<str:project_id>/", views.ProjectDetailView.as_view(), name="api-project"),
    path(
        "projects/<str:project_id>/order",
        views.ProjectOrderView.as_view(),
        name="api-project-order",
    ),
    path("folders/", views.FolderListCreateView.as_view(), name="api-folders"),
    path("folders/<str:folder_id>/", views.FolderDetailView.as_view(), name="api-folder"),
    path("photos/", views.PhotoListCreateView.as_view(), name="api-photos"),
    path("photos/<str:photo_id>/", views.PhotoDetailView.as_view(), name="api-photo"),
    path("photos/<str:photo_id>/retry", views.PhotoRetryView.as_view(), name="api-photo-retry"),
    path(
        "photos/<str:photo_id>/delivered",
        views.PhotoDeliverView.as_view(),
        name="api-photo-delivered",
    ),
    path("uploads/", uploads.UploadStartView.as_view(), name="api-uploads"),
    path("uploads/<str:upload_id>/", uploads.UploadDetailView.as_view(), name="api-upload"),
    path("uploads/<str:upload_id>/data", uploads.UploadDataView.as_view(), name="api-upload-data"),
    path(
        "uploads/<str:upload_id>/complete",
        uploads.UploadCompleteView.as_view(),
        name="api-upload-complete",
    ),
]
