from django.urls import path

from projects import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("projects/new", views.project_create, name="project-create"),
    path("projects/<str:project_id>/", views.project_detail, name="project-detail"),
    path(
        "projects/<str:project_id>/photos/<str:photo_id>/", views.photo_detail, name="photo-detail"
    ),
    path(
        "projects/<str:project_id>/photos/<str:photo_id>/tile",
        views.photo_tile,
        name="photo-tile",
    ),
    path(
        "projects/<str:project_id>/photos/<str:photo_id>/deliver",
        views.photo_deliver,
        name="photo-deliver",
    ),
    path(
        "projects/<str:project_id>/photos/<str:photo_id>/retry",
        views.photo_retry,
        name="photo-retry",
    ),
    path(
        "projects/<str:project_id>/photos/<str:photo_id>/delete",
        views.photo_delete,
        name="photo-delete",
    ),
]
