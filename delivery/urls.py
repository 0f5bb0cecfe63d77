from django.urls import path

from delivery import views

urlpatterns = [
    path("files/<str:token>", views.signed_file, name="signed-file"),
    path("s/<str:token>/", views.shared_gallery, name="shared-gallery"),
    path("s/<str:token>/photos/<str:photo_id>/<str:kind>", views.shared_file, name="shared-file"),
]
