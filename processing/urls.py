from django.urls import path

from processing import views

urlpatterns = [path("presets/", views.presets, name="presets")]
