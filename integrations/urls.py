from django.urls import path

from integrations import views

urlpatterns = [
    path("integrations/webhooks/", views.webhooks, name="webhooks"),
    path("integrations/deliveries/<str:delivery_id>/replay", views.replay, name="webhook-replay"),
]
