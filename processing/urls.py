from django.urls import path

from processing import views

urlpatterns = [
    path("presets/", views.presets, name="presets"),
    path("presets/<str:preset_id>/edit/", views.preset_edit, name="preset-edit"),
    path("presets/<str:preset_id>/delete/", views.preset_remove, name="preset-delete"),
]
